// The third participant as a party's page sees it (docs/realtime.md, "Third participant"): the
// invitation link, the invitee waiting (the doctor admits or refuses), and the party's own peer
// link with the invitee (a full mesh: the invitee offers, the party answers, relays say `to`).
import type { Socket } from "socket.io-client";
import { api } from "../../lib/api";
import { request } from "../../lib/socket";
import { PeerLink } from "./peerLink";
import { CALL, GUEST, type DescriptionMessage, type IceMessage, type SignalEvent } from "./protocol";

export type GuestRole = "carer" | "interpreter" | "clinician";

export interface GuestInfo {
  invite_id: string;
  display_name: string;
  role: GuestRole;
  status: "waiting" | "admitted";
}

export interface GuestsState {
  guest: GuestInfo | null;
  remote: MediaStream | null;
  /** The link to share, once made (shown once: the server keeps only its hash). */
  inviteUrl: string | null;
  inviteId: string | null;
  problem: unknown;
}

interface GuestNews {
  role: string;
  invite_id?: string;
  display_name?: string;
  guest_role?: GuestRole;
}

interface Relayed {
  from?: string;
}

export interface GuestsHost {
  session: string | null;
  rtcConfig: RTCConfiguration | null;
  localStream: MediaStream | null;
}

export class GuestsController {
  state: GuestsState = { guest: null, remote: null, inviteUrl: null, inviteId: null, problem: undefined };
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private link: PeerLink | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly host: GuestsHost,
  ) {
    const on = <T>(event: string, handle: (data: T) => unknown) => {
      const listener = (data: T) => void Promise.resolve(handle(data)).catch((e: unknown) => console.warn(e));
      socket.on(event, listener);
      this.unsubscribe.push(() => socket.off(event, listener));
    };
    on<GuestNews>(GUEST.waiting, (news) => this.arrived(news, "waiting"));
    on<GuestNews>(CALL.peerJoined, (news) => news.role === "guest" && this.arrived(news, "admitted"));
    on<GuestNews>(CALL.peerLeft, (news) => {
      if (news.role !== "guest") return;
      this.dropLink();
      this.set({ guest: null });
    });
    on(CALL.ended, () => this.dropLink());
    on<DescriptionMessage & Relayed>(CALL.offer, (m) => m.from === "guest" && this.ensureLink().description(m.description));
    on<DescriptionMessage & Relayed>(CALL.answer, (m) => m.from === "guest" && this.link?.description(m.description));
    on<IceMessage & Relayed>(CALL.ice, (m) => m.from === "guest" && this.link?.candidate(m.candidate));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What call.join answered about the guest (already waiting or in the call). */
  known(guest: (GuestInfo & { present: boolean }) | null | undefined): void {
    if (guest && guest.present) this.set({ guest });
  }

  async invite(): Promise<void> {
    const id = this.host.session;
    if (id === null) return;
    try {
      const made = await api<{ id: string; path: string }>(`/teleconsultation/session/${id}/invites`, { method: "POST" });
      this.set({ inviteUrl: `${location.origin}${made.path}`, inviteId: made.id, problem: undefined });
    } catch (problem) {
      this.set({ problem });
    }
  }

  async withdraw(): Promise<void> {
    const id = this.host.session;
    if (id === null || this.state.inviteId === null) return;
    try {
      await api(`/teleconsultation/session/${id}/invites/${this.state.inviteId}`, { method: "DELETE" });
      this.set({ inviteUrl: null, inviteId: null, problem: undefined });
    } catch (problem) {
      this.set({ problem });
    }
  }

  async admit(): Promise<void> {
    await this.decide(GUEST.admit);
  }

  /** Refuse a waiting invitee, or remove an admitted one (call.refuse_guest either way). */
  async refuse(): Promise<void> {
    await this.decide(GUEST.refuse);
  }

  setLocal(stream: MediaStream | null): void {
    void this.link?.setLocal(stream);
  }

  dispose(): void {
    this.unsubscribe.forEach((off) => off());
    this.dropLink();
    this.listeners.clear();
  }

  private async decide(event: string): Promise<void> {
    try {
      const data = await request<GuestInfo & { status: string }>(this.socket, event, { session_id: this.host.session });
      const guest = this.state.guest;
      if (data.status === "admitted" && guest) this.set({ guest: { ...guest, status: "admitted" }, problem: undefined });
      else {
        this.dropLink();
        this.set({ guest: null, problem: undefined, inviteUrl: null, inviteId: null });
      }
    } catch (problem) {
      this.set({ problem });
    }
  }

  private arrived(news: GuestNews, status: GuestInfo["status"]): void {
    if (!news.invite_id || !news.display_name || !news.guest_role) return;
    this.dropLink(); // an arrival means a new connection on the invitee's side
    const guest: GuestInfo = { invite_id: news.invite_id, display_name: news.display_name, role: news.guest_role, status };
    this.set({ guest, inviteUrl: null, inviteId: null });
  }

  /** The invitee offers; the party answers on its own link (impolite: the invitee yields). */
  private ensureLink(): PeerLink {
    if (this.link) return this.link;
    const send = async (event: SignalEvent, body: Record<string, unknown>): Promise<void> => {
      await request(this.socket, event, { session_id: this.host.session, to: "guest", ...body });
    };
    const link = new PeerLink({
      polite: false,
      config: this.host.rtcConfig ?? {},
      local: this.host.localStream,
      send,
      onState: () => undefined,
      onRemote: (remote) => this.link === link && this.set({ remote }),
    });
    this.link = link;
    return link;
  }

  private dropLink(): void {
    this.link?.close();
    this.link = null;
    if (this.state.remote !== null) this.set({ remote: null });
  }

  private set(patch: Partial<GuestsState>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((listener) => listener());
  }
}
