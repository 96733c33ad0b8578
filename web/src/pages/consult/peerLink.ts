// One RTCPeerConnection with "perfect negotiation" (docs/realtime.md, "Glare"): the polite side
// (the patient) rolls back its own offer on a collision, the impolite one (the doctor) ignores
// the other's. Candidates go out only after their description was acknowledged, and incoming
// ones wait for theirs. No framework here: the call controller drives it.
import { CALL, type SignalEvent } from "./protocol";
import { rate, sampleOf, type Quality } from "./quality";

export type LinkState = "connecting" | "connected" | "unstable" | "failed";

export type Send = (event: SignalEvent, body: Record<string, unknown>) => Promise<void>;

export interface LinkOptions {
  polite: boolean;
  config: RTCConfiguration;
  local: MediaStream | null;
  send: Send;
  onState: (state: LinkState) => void;
  onRemote: (stream: MediaStream) => void;
}

const KINDS = ["audio", "video"] as const;

function stateOf(pc: RTCPeerConnection): LinkState {
  switch (pc.connectionState) {
    case "connected":
      return "connected";
    case "disconnected":
      return "unstable";
    case "failed":
    case "closed":
      return "failed";
    default:
      return "connecting";
  }
}

export class PeerLink {
  private readonly pc: RTCPeerConnection;
  private remote: MediaStreamTrack[] = [];
  private makingOffer = false;
  private ignoreOffer = false;
  private closed = false;
  /** Remote candidates that arrived before their description. */
  private early: RTCIceCandidateInit[] = [];
  /** Local candidates held while a description of ours is on its way. */
  private held: RTCIceCandidateInit[] = [];
  private describing = 0;
  private local: MediaStream | null;
  /** Audio only: the camera track stays off the sender. */
  private videoPaused = false;
  /** Received / lost packet counters at the last quality sample. */
  private counted = { lost: 0, received: 0 };

  constructor(private readonly options: LinkOptions) {
    this.local = options.local;
    const pc = new RTCPeerConnection(options.config);
    this.pc = pc;
    // A new stream object per track: the <video> showing it notices the change.
    pc.ontrack = ({ track }) => {
      this.remote = [...this.remote.filter((t) => t.kind !== track.kind), track];
      options.onRemote(new MediaStream(this.remote));
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.sendCandidate(candidate.toJSON());
    };
    pc.onconnectionstatechange = () => {
      if (!this.closed) options.onState(stateOf(pc));
    };
    pc.onnegotiationneeded = () => void this.offer();
  }

  get state(): LinkState {
    return stateOf(this.pc);
  }

  /** The offering side sends what it has and asks for both kinds (recvonly without a device). */
  start(): void {
    for (const kind of KINDS) {
      const track = this.localTrack(kind);
      if (track && this.local) this.pc.addTrack(track, this.local);
      else this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  /** A call.offer / call.answer from the other party. */
  async description(description: RTCSessionDescriptionInit): Promise<void> {
    const collision = description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
    this.ignoreOffer = !this.options.polite && collision;
    if (this.ignoreOffer || this.closed) return;
    await this.pc.setRemoteDescription(description); // rolls our own offer back when polite
    const early = this.early;
    this.early = [];
    for (const candidate of early) await this.addCandidate(candidate);
    // A camera that started while our offer was out (admitted before getUserMedia answered)
    // found no remote description: send it now (renegotiates), instead of never.
    await this.attachLocal();
    if (description.type !== "offer") return;
    await this.sendDescription(CALL.answer);
  }

  /** A call.ice from the other party; end-of-candidates needs nothing from us. */
  async candidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    if (!candidate?.candidate || this.closed) return;
    if (!this.pc.remoteDescription) this.early.push(candidate);
    else await this.addCandidate(candidate);
  }

  /** ICE went bad: new credentials, a new offer (the doctor's job). */
  restartIce(): void {
    if (!this.closed) this.pc.restartIce();
  }

  /** The camera or microphone changed (started late, restarted): send the new tracks. A side
   * that only received so far starts sending, which renegotiates. */
  async setLocal(local: MediaStream | null): Promise<void> {
    this.local = local;
    if (!this.closed && this.pc.remoteDescription) await this.attachLocal();
  }

  /** Audio only (true) or video again: the camera leaves or rejoins its sender. */
  async pauseVideo(paused: boolean): Promise<void> {
    this.videoPaused = paused;
    if (!this.closed && this.pc.remoteDescription) await this.attachLocal();
  }

  /** The link's quality now (getStats), or null before a candidate pair succeeded. */
  async quality(): Promise<Quality | null> {
    if (this.closed) return null;
    const reports: Record<string, unknown>[] = [];
    (await this.pc.getStats()).forEach((report: Record<string, unknown>) => reports.push(report));
    const measured = sampleOf(reports, this.counted);
    if (measured === null) return null;
    this.counted = measured.counted;
    return rate(measured.sample);
  }

  close(): void {
    this.closed = true;
    this.pc.onconnectionstatechange = null;
    this.pc.onnegotiationneeded = null;
    this.pc.close();
  }

  private localTrack(kind: string): MediaStreamTrack | null {
    if (kind === "video" && this.videoPaused) return null;
    return this.local?.getTracks().find((track) => track.kind === kind) ?? null;
  }

  /** Our tracks ride on the transceivers already negotiated (when answering: the ones the
   * offer created), so adding them needs no extra round of offers. */
  private async attachLocal(): Promise<void> {
    for (const transceiver of this.pc.getTransceivers()) {
      const track = this.localTrack(transceiver.receiver.track.kind);
      if (transceiver.currentDirection === "stopped" || transceiver.sender.track === track) continue;
      await transceiver.sender.replaceTrack(track);
      if (track && transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
    }
  }

  private async offer(): Promise<void> {
    if (this.closed) return;
    this.makingOffer = true;
    try {
      await this.sendDescription(CALL.offer);
    } catch (error) {
      console.warn("offer failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  private async sendDescription(event: typeof CALL.offer | typeof CALL.answer): Promise<void> {
    this.describing += 1;
    try {
      await this.pc.setLocalDescription();
      const local = this.pc.localDescription;
      if (local && !this.closed) await this.options.send(event, { description: local.toJSON() });
    } finally {
      this.describing -= 1;
      if (this.describing === 0) {
        const held = this.held;
        this.held = [];
        held.forEach((candidate) => this.sendCandidate(candidate));
      }
    }
  }

  private sendCandidate(candidate: RTCIceCandidateInit): void {
    if (this.describing > 0) this.held.push(candidate);
    else if (!this.closed) void this.options.send(CALL.ice, { candidate }).catch(() => undefined);
  }

  private async addCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an offer we ignored (glare) are expected to fail.
      if (!this.ignoreOffer) console.warn("ICE candidate refused", error);
    }
  }
}
