// The invitee's side of a three-way call (docs/realtime.md, "Third participant"): its own
// /consult socket authenticated by the guest token, the waiting room, then one peer link per
// party (the invitee offers on each and is the polite peer), and the chat from its admission.
import { io, type Socket } from "socket.io-client";
import { request } from "../../lib/socket";
import { rtcConfiguration, type IceServer } from "../../lib/teleconsult";
import { PeerLink } from "../consult/peerLink";
import { CALL, GUEST, type DescriptionMessage, type IceMessage, type SignalEvent } from "../consult/protocol";

export type Seat = "doctor" | "patient";
export type GuestPhase = "connecting" | "waiting" | "call" | "refused" | "ended";

export interface GuestGrant {
  invite_id: string;
  session_id: string;
  appointment_id: string;
  guest_token: string;
  display_name: string;
  role: string;
  doctor_name: string;
  start: string;
  ice_servers: IceServer[];
}

export interface ChatLine {
  id: string;
  mine: boolean;
  body: string;
}

export interface GuestCallState {
  phase: GuestPhase;
  remotes: Partial<Record<Seat, MediaStream | null>>;
  messages: ChatLine[];
  problem: unknown;
}

interface Relayed {
  from?: string;
  role?: string;
}

interface Message {
  id: string;
  sender_user_id: string;
  body: string;
}

export class GuestCall {
  state: GuestCallState = { phase: "connecting", remotes: {}, messages: [], problem: undefined };
  private readonly listeners = new Set<() => void>();
  private readonly socket: Socket;
  private readonly links = new Map<Seat, PeerLink>();
  private readonly config: RTCConfiguration;

  constructor(
    private readonly grant: GuestGrant,
    private local: MediaStream | null,
  ) {
    this.config = rtcConfiguration({ ice_servers: grant.ice_servers } as Parameters<typeof rtcConfiguration>[0]);
    this.socket = io("/consult", {
      path: "/socket.io",
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      auth: { guest_token: grant.guest_token },
    });
    const on = <T>(event: string, handle: (data: T) => unknown) =>
      this.socket.on(event, (data: T) => void Promise.resolve(handle(data)).catch((e: unknown) => console.warn(e)));
    on("connect", () => this.join());
    on<{ peers: Seat[] }>(CALL.admitted, (news) => this.admitted(news.peers));
    on(GUEST.refused, () => this.finish("refused"));
    on(CALL.ended, () => this.finish("ended"));
    on<Relayed>(CALL.peerJoined, (news) => this.isSeat(news.role) && this.call(news.role));
    on<Relayed>(CALL.peerLeft, (news) => this.isSeat(news.role) && this.drop(news.role));
    on<DescriptionMessage>(CALL.offer, (m) => this.isSeat(m.from) && this.linkTo(m.from).description(m.description));
    on<DescriptionMessage>(CALL.answer, (m) => this.isSeat(m.from) && this.links.get(m.from)?.description(m.description));
    on<IceMessage>(CALL.ice, (m) => this.isSeat(m.from) && this.links.get(m.from)?.candidate(m.candidate));
    on<Message>("message", (m) => this.heard(m));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setLocal(local: MediaStream | null): void {
    this.local = local;
    for (const link of this.links.values()) void link.setLocal(local);
  }

  async say(body: string): Promise<void> {
    try {
      const sent = await request<Message>(this.socket, "message", { appointment_id: this.grant.appointment_id, body });
      this.heard(sent);
    } catch (problem) {
      this.set({ problem });
    }
  }

  dispose(): void {
    for (const seat of [...this.links.keys()]) this.drop(seat);
    this.socket.close();
    this.listeners.clear();
  }

  private isSeat(value: string | undefined): value is Seat {
    return value === "doctor" || value === "patient";
  }

  private async join(): Promise<void> {
    try {
      const joined = await request<{ admitted: boolean }>(this.socket, CALL.join, {
        join_token: this.grant.guest_token,
        resume: this.links.size > 0,
      });
      if (this.state.phase === "connecting") this.set({ phase: joined.admitted ? "call" : "waiting" });
      if (joined.admitted) await this.chat();
    } catch (problem) {
      this.set({ problem });
    }
  }

  private async admitted(peers: Seat[]): Promise<void> {
    this.set({ phase: "call" });
    for (const seat of peers) this.call(seat);
    await this.chat();
  }

  private async chat(): Promise<void> {
    const page = await request<{ messages: Message[] }>(this.socket, "join", { appointment_id: this.grant.appointment_id });
    this.set({ messages: [] });
    for (const message of page.messages) this.heard(message);
  }

  private heard(message: Message): void {
    if (this.state.messages.some((m) => m.id === message.id)) return;
    const line = { id: message.id, mine: message.sender_user_id === this.grant.invite_id, body: message.body };
    this.set({ messages: [...this.state.messages, line] });
  }

  /** A party is in the call: a new link to it, and the invitee's offer. */
  private call(seat: Seat): void {
    this.drop(seat);
    this.linkTo(seat).start();
  }

  private linkTo(seat: Seat): PeerLink {
    const existing = this.links.get(seat);
    if (existing) return existing;
    const send = async (event: SignalEvent, body: Record<string, unknown>): Promise<void> => {
      await request(this.socket, event, { session_id: this.grant.session_id, to: seat, ...body });
    };
    const link = new PeerLink({
      polite: true,
      config: this.config,
      local: this.local,
      send,
      onState: () => undefined,
      onRemote: (remote) => this.links.get(seat) === link && this.set({ remotes: { ...this.state.remotes, [seat]: remote } }),
    });
    this.links.set(seat, link);
    return link;
  }

  private drop(seat: Seat): void {
    this.links.get(seat)?.close();
    this.links.delete(seat);
    const remotes = { ...this.state.remotes };
    delete remotes[seat];
    this.set({ remotes });
  }

  private finish(phase: "refused" | "ended"): void {
    for (const seat of [...this.links.keys()]) this.drop(seat);
    this.set({ phase });
    this.socket.close();
  }

  private set(patch: Partial<GuestCallState>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((listener) => listener());
  }
}
