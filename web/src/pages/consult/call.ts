// The call of one consultation page: find (or, for the doctor, open) the session, join the
// waiting room, admission, the peer link, coming back after a dropped socket, hang-up and end.
// docs/realtime.md, "Signaling (/consult)". Framework-free: useCall renders its state.
//
// Everything that reads or changes the state runs one step at a time through `queue`, socket
// events included, so an offer never overtakes the join it follows.
import type { Socket } from "socket.io-client";
import { isProblem } from "../../lib/errors";
import { request, SocketRefusal } from "../../lib/socket";
import {
  endSession,
  findSession,
  joinGrant,
  rtcConfiguration,
  sessionFor,
  type CallRole,
  type ConsultSession,
  type JoinGrant,
} from "../../lib/teleconsult";
import { PeerLink, type LinkState } from "./peerLink";
import { nextPause, type Quality, type VideoPause } from "./quality";
import {
  CALL,
  type CallEnded,
  type CallJoined,
  type DescriptionMessage,
  type IceMessage,
  type MediaNews,
  type PeerJoined,
  type PeerLeft,
  type SignalEvent,
} from "./protocol";

/** "loading": the session's status is being read (an ended one goes straight to "ended"). */
export type Phase = "loading" | "lobby" | "joining" | "waiting" | "call" | "left" | "ended";

/** The latest thing worth telling about the other party or this page. */
export type Notice = "peerBack" | "peerHungUp" | "peerDropped" | "replaced" | "youLeft";

export interface CallState {
  phase: Phase;
  role: CallRole;
  /** The signaling socket is connected (media may flow without it). */
  online: boolean;
  /** The doctor admitted the patient: the session is active. */
  started: boolean;
  peerPresent: boolean;
  /** The patient waits to be admitted (what the doctor sees). */
  peerWaiting: boolean;
  link: LinkState | null;
  remote: MediaStream | null;
  notice: Notice | null;
  problem: unknown;
  /** This page's link quality (getStats), and the other party's as it says (call.media). */
  quality: Quality | null;
  peerQuality: Quality | null;
  /** Audio only, and why: this page's video, and the other party's. */
  videoPaused: VideoPause;
  peerVideoPaused: VideoPause;
}

const CLOSED = "/problems/consultation-closed";
// A "disconnected" link often heals by itself; after this long the doctor restarts ICE.
const UNSTABLE_GRACE_MS = 4_000;
// A link still not connected this long after it went bad (the ICE restart did not help):
// the patient asks for a new peer connection (call.join, resume false), nobody presses anything.
const FRESH_LINK_MS = 10_000;
// The link is measured this often; so many poor samples in a row pause the video, so many
// good ones resume it (docs/realtime.md, "Audio only and link quality").
const SAMPLE_EVERY_MS = 2_000;

/** call.join refused with `conflict`: the consultation ended meanwhile. */
class ConsultationClosed extends Error {}

const isClosed = (error: unknown): boolean => error instanceof ConsultationClosed || isProblem(error, CLOSED);
const isOver = (session: ConsultSession): boolean => session.status === "completed" || session.status === "failed";

export class CallController {
  state: CallState;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private sessionId: string | null = null;
  private grant: JoinGrant | null = null;
  private link: PeerLink | null = null;
  private local: MediaStream | null = null;
  private unstableTimer: ReturnType<typeof setTimeout> | undefined;
  private freshTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private readonly sampler: ReturnType<typeof setInterval>;
  /** The latest samples' verdicts, newest last (as many as the longest streak needs). */
  private samples: Quality[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly appointmentId: string,
    role: CallRole,
  ) {
    this.state = {
      phase: "loading",
      role,
      online: socket.connected,
      started: false,
      peerPresent: false,
      peerWaiting: false,
      link: null,
      remote: null,
      notice: null,
      problem: undefined,
      quality: null,
      peerQuality: null,
      videoPaused: null,
      peerVideoPaused: null,
    };
    this.sampler = setInterval(() => void this.step(() => this.sample()), SAMPLE_EVERY_MS);
    this.listen();
    void this.step(() => this.look());
  }

  /** The session's id once known (the patient's opens on entering the waiting room). */
  get session(): string | null {
    return this.sessionId;
  }

  /** The grant's ICE servers (for the third participant's link), once joined. */
  get rtcConfig(): RTCConfiguration | null {
    return this.grant ? rtcConfiguration(this.grant) : null;
  }

  get localStream(): MediaStream | null {
    return this.local;
  }

  /** Told what each call.join answered (the third participant's part: guests.ts). */
  onJoined: ((joined: CallJoined) => void) | null = null;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Actions ------------------------------------------------------------------------------

  join(): Promise<void> {
    return this.step(async () => {
      if (this.state.phase !== "lobby" && this.state.phase !== "left") return;
      this.set({ phase: "joining", problem: undefined, notice: null });
      try {
        await this.enter(false);
      } catch (error) {
        if (isClosed(error)) this.finish();
        else if (!this.disposed) this.set({ phase: "lobby", problem: error });
      }
    });
  }

  /** The doctor lets the waiting patient in and calls them. The offer is made while the server
   * admits (the server relays it only once the patient is in, so it leaves when the admission
   * is acknowledged): the first picture comes one offer-making sooner. */
  admit(): Promise<void> {
    return this.step(async () => {
      let admitted = (_: boolean): void => undefined;
      const gate = new Promise<boolean>((resolve) => (admitted = resolve));
      this.newLink(gate).start();
      await this.attempt(() => request(this.socket, CALL.admit, { session_id: this.sessionId }));
      admitted(this.state.problem === undefined);
      if (this.state.problem !== undefined) return this.dropLink();
      this.set({ started: true, peerWaiting: false, notice: null });
    });
  }

  /** The patient leaves the call (and may come back); the doctor's hang-up is `end`. */
  leave(): Promise<void> {
    return this.step(async () => {
      await request(this.socket, CALL.hangup, { session_id: this.sessionId }).catch(() => undefined);
      this.dropLink();
      this.set({ phase: "left", notice: "youLeft", peerPresent: false, peerWaiting: false });
    });
  }

  /** End the consultation for both parties (POST …/end); the other side gets call.ended. */
  end(): Promise<void> {
    return this.step(async () => {
      const id = this.sessionId;
      if (id === null) return;
      await this.attempt(() => endSession(id));
      if (this.state.problem === undefined) this.finish();
    });
  }

  /** The video link failed for good: the doctor calls again, the patient asks for a new call. */
  reconnect(): Promise<void> {
    return this.step(async () => {
      if (this.state.phase !== "call") return;
      if (this.state.role === "doctor") this.newLink().start();
      else await this.attempt(() => this.enter(true, false));
    });
  }

  /** The audio-only button: pause this page's video by hand, or send it again. */
  toggleAudioOnly(): Promise<void> {
    return this.step(() => this.pauseVideo(this.state.videoPaused === null ? "manual" : null));
  }

  setLocal(stream: MediaStream | null): void {
    this.local = stream;
    void this.link?.setLocal(stream);
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.sampler);
    this.unsubscribe.forEach((off) => off());
    this.dropLink();
    this.listeners.clear();
  }

  // Server events ------------------------------------------------------------------------

  private listen(): void {
    const on = <T>(event: string, handle: (data: T) => unknown) => {
      const listener = (data: T) => void this.step(async () => void (await handle(data)));
      this.socket.on(event, listener);
      this.unsubscribe.push(() => this.socket.off(event, listener));
    };
    on("connect", () => this.reconnected());
    on("disconnect", () => this.set({ online: false }));
    on(CALL.waiting, () => this.set({ peerPresent: true, peerWaiting: true }));
    on(CALL.admitted, () => this.set({ phase: "call", started: true }));
    // News and signals of the third participant are GuestsController's (guests.ts).
    const party = (news: { role?: string; from?: string }) => news.role !== "guest" && news.from !== "guest";
    on<PeerJoined>(CALL.peerJoined, (news) => party(news) && this.peerJoined(news));
    on<PeerLeft>(CALL.peerLeft, (news) => party(news) && this.peerLeft(news));
    on(CALL.replaced, () => {
      this.dropLink();
      this.set({ phase: "left", notice: "replaced" });
    });
    // Sent to every socket in the consultation room, in the call or not (chat only, left).
    on<CallEnded>(CALL.ended, (news) => {
      if (news.appointment_id === this.appointmentId) this.finish();
    });
    on<DescriptionMessage>(CALL.offer, (m) => party(m) && (this.link ?? this.newLink()).description(m.description));
    on<DescriptionMessage>(CALL.answer, (m) => party(m) && this.link?.description(m.description));
    on<IceMessage>(CALL.ice, (m) => party(m) && this.link?.candidate(m.candidate));
    on<MediaNews>(CALL.media, (m) =>
      party(m) && this.set({ peerVideoPaused: m.video ? null : (m.reason ?? "manual"), peerQuality: m.quality }),
    );
  }

  private async reconnected(): Promise<void> {
    this.set({ online: true });
    // Out of the call, an end may have been missed while offline: read the session again.
    if (this.state.phase === "lobby" || this.state.phase === "left") return this.look();
    if (this.state.phase !== "waiting" && this.state.phase !== "call") return;
    // Only the socket dropped: keep the media link if there is one (resume).
    await this.attempt(() => this.enter(true, this.link !== null));
  }

  private peerJoined(news: PeerJoined): void {
    this.set({ peerPresent: true, peerWaiting: false, notice: this.state.phase === "call" ? "peerBack" : null });
    if (!news.resume) this.dropLink(); // they have a new connection: ours is dead
    if (this.state.role === "doctor" && this.state.started) this.callAgain();
    void this.announce(); // a new device of theirs learns whether our video is paused
  }

  private peerLeft(news: PeerLeft): void {
    const hungUp = news.reason === "hangup";
    this.set({ peerPresent: false, peerWaiting: false, notice: hungUp ? "peerHungUp" : "peerDropped" });
    this.set({ peerQuality: null, peerVideoPaused: null });
    // A dropped socket may leave the media flowing peer to peer: keep the link until it fails.
    if (hungUp) this.dropLink();
  }

  // Internals ----------------------------------------------------------------------------

  /** Measure the link; pause the video after poor samples, resume it after good ones (only
   * when it was paused for the link, not by hand); tell the other party what changed. */
  private async sample(): Promise<void> {
    const quality = this.state.phase === "call" ? await this.link?.quality() : null;
    if (!quality) return;
    const next = nextPause({ paused: this.state.videoPaused, recent: this.samples }, quality);
    this.samples = next.recent;
    const changed = quality !== this.state.quality;
    this.set({ quality });
    if (next.paused !== this.state.videoPaused) return this.pauseVideo(next.paused);
    if (changed) await this.announce();
  }

  private async pauseVideo(reason: VideoPause): Promise<void> {
    this.set({ videoPaused: reason });
    await this.link?.pauseVideo(reason !== null);
    await this.announce();
  }

  /** call.media: our video and quality, to the other party (lost news are sent again on the
   * next change or when they come back). */
  private async announce(): Promise<void> {
    if (this.state.phase !== "call" || !this.state.started || this.sessionId === null) return;
    const { videoPaused, quality } = this.state;
    const news: MediaNews = { video: videoPaused === null, reason: videoPaused, quality };
    await request(this.socket, CALL.media, { session_id: this.sessionId, ...news }).catch(() => undefined);
  }

  /** Read the session, if there is one yet: an ended consultation shows as ended at once. */
  private async look(): Promise<void> {
    try {
      const session = await findSession(this.appointmentId);
      this.sessionId = session.id;
      if (isOver(session)) return this.finish();
    } catch {
      // None yet (404: opened on entering), or unreachable: entering says what is wrong.
    }
    if (this.state.phase === "loading") this.set({ phase: "lobby" });
  }

  /** Get a grant, send call.join, and take the state the server answers with. */
  private async enter(rejoin: boolean, resume = false): Promise<void> {
    if (this.sessionId === null) {
      const session = await sessionFor(this.appointmentId);
      if (isOver(session)) throw new ConsultationClosed();
      this.sessionId = session.id;
    }
    this.grant = await joinGrant(this.sessionId, rejoin);
    const joined = await request<CallJoined>(this.socket, CALL.join, { join_token: this.grant.token, resume }).catch(
      (error: unknown) => {
        throw error instanceof SocketRefusal && error.code === "conflict" ? new ConsultationClosed() : error;
      },
    );
    if (!resume) this.dropLink();
    this.onJoined?.(joined);
    this.set({
      phase: joined.admitted ? "call" : "waiting",
      started: joined.status === "active",
      peerPresent: joined.peer.present,
      peerWaiting: joined.peer.waiting,
      problem: undefined,
    });
    if (this.state.role === "doctor" && this.state.started && joined.peer.present) this.callAgain();
  }

  /** The doctor (re)starts the media: a new link, or an ICE restart of a sick one. */
  private callAgain(): void {
    if (!this.link) this.newLink().start();
    else if (this.link.state !== "connected") this.link.restartIce();
  }

  /** A new peer link; its signaling waits for `admitted` when given (false: never sent). */
  private newLink(admitted?: Promise<boolean>): PeerLink {
    this.dropLink();
    const grant = this.grant;
    if (!grant) throw new Error("no join grant");
    const send = async (event: SignalEvent, body: Record<string, unknown>): Promise<void> => {
      if (admitted && !(await admitted)) throw new Error("not admitted");
      await this.signal(event, body);
    };
    const link = new PeerLink({
      polite: grant.polite,
      config: rtcConfiguration(grant),
      local: this.local,
      send,
      onState: (state) => this.linkChanged(link, state),
      onRemote: (remote) => this.link === link && this.set({ remote }),
    });
    if (this.state.videoPaused !== null) void link.pauseVideo(true); // before any track is added
    this.link = link;
    this.samples = [];
    this.set({ link: "connecting", remote: null });
    return link;
  }

  private linkChanged(link: PeerLink, state: LinkState): void {
    if (this.link !== link) return;
    this.set({ link: state });
    clearTimeout(this.unstableTimer);
    if (state === "connected") this.stopFreshTimer();
    if (state !== "unstable" && state !== "failed") return;
    if (this.state.role === "patient") return this.startFreshTimer(link);
    if (state === "failed") link.restartIce();
    if (state === "unstable") {
      this.unstableTimer = setTimeout(() => link.state === "unstable" && link.restartIce(), UNSTABLE_GRACE_MS);
    }
  }

  private startFreshTimer(link: PeerLink): void {
    if (this.freshTimer !== undefined) return; // counted from when the link first went bad
    this.freshTimer = setTimeout(() => {
      this.freshTimer = undefined;
      if (this.link === link && link.state !== "connected") void this.reconnect();
    }, FRESH_LINK_MS);
  }

  private stopFreshTimer(): void {
    clearTimeout(this.freshTimer);
    this.freshTimer = undefined;
  }

  private dropLink(): void {
    clearTimeout(this.unstableTimer);
    this.stopFreshTimer();
    this.link?.close();
    this.link = null;
    if (this.state.link !== null || this.state.remote !== null) this.set({ link: null, remote: null });
  }

  private finish(): void {
    this.dropLink();
    this.set({ phase: "ended", notice: null, peerPresent: false, peerWaiting: false });
  }

  private async signal(event: SignalEvent, body: Record<string, unknown>): Promise<void> {
    await request(this.socket, event, { session_id: this.sessionId, ...body });
  }

  /** Run an action; its failure becomes the state's `problem` (shown in plain words). */
  private async attempt(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      this.set({ problem: undefined });
    } catch (error) {
      if (isClosed(error)) this.finish();
      else this.set({ problem: error });
    }
  }

  private step(action: () => void | Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (!this.disposed) await action();
    });
    this.queue = run.catch((error: unknown) => console.warn("call step failed", error));
    return this.queue;
  }

  private set(patch: Partial<CallState>): void {
    if (this.disposed) return;
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((listener) => listener());
  }
}
