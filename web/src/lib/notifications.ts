// The bell (stored in-app notifications + live ones on /notifications), message preferences,
// a practice's reminders and the admins' dev mailbox (docs/realtime.md, /api/v1/notifications).
import { signal } from "@preact/signals";
import type { Socket } from "socket.io-client";
import { api, buildUrl } from "./api";
import { accessTokenSignal } from "./session";
import { openSocket } from "./socket";

export interface AppNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at?: string | null;
}

interface NotificationPage {
  items: AppNotification[];
  unread_count: number;
  next_before: string | null;
}

export interface Preferences {
  language: "en" | "fr";
  time_zone: string | null;
  phone: string | null;
  email: boolean;
  sms: boolean;
  in_app: boolean;
}

export interface MailboxEntry {
  id: string;
  kind: string;
  channel: "email" | "sms";
  recipient: string;
  subject: string | null;
  body: string;
  calendar: string | null;
  received_at: string;
}

/** What the bell shows: newest first, merged by id (a live one may also be in the page). */
export const bell = signal<{ items: AppNotification[]; unread: number; loaded: boolean }>({
  items: [],
  unread: 0,
  loaded: false,
});

function merge(items: AppNotification[], incoming: AppNotification[]): AppNotification[] {
  const byId = new Map(items.map((n) => [n.id, n]));
  for (const n of incoming) byId.set(n.id, { ...byId.get(n.id), ...n });
  return [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** The stored page, with the token as it is: the bell never refreshes tokens (the page's own
 * requests and sockets do; two refreshers racing could end the session). */
export async function loadBell(): Promise<void> {
  const token = accessTokenSignal.value;
  if (!token) return;
  const response = await fetch(buildUrl("/notifications", { limit: 20 }), {
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`bell: ${response.status}`);
  const page = (await response.json()) as NotificationPage;
  bell.value = { items: merge(bell.value.items, page.items), unread: page.unread_count, loaded: true };
}

/** Follow the user's /notifications room; reloads the stored page at the first connect and
 * after a lost connection, so a notification sent while offline shows up too (not after the
 * server's routine close at a token's expiry: the socket is back at once). Returns the closer. */
export function followBell(): () => void {
  const socket: Socket = openSocket("/notifications", { follower: true });
  let behind = true;
  socket.on("connect", () => {
    if (!behind) return;
    behind = false;
    void loadBell().catch(() => (behind = true));
  });
  socket.on("disconnect", (reason) => {
    if (reason !== "io server disconnect") behind = true;
  });
  socket.on("notification", (n: AppNotification) => {
    const known = bell.value.items.some((item) => item.id === n.id);
    bell.value = {
      items: merge(bell.value.items, [{ ...n, read_at: null }]),
      unread: bell.value.unread + (known ? 0 : 1),
      loaded: bell.value.loaded,
    };
  });
  return () => {
    socket.disconnect();
    bell.value = { items: [], unread: 0, loaded: false }; // signed out: nothing of theirs stays
  };
}

export async function markAllRead(): Promise<void> {
  const answer = await api<{ unread_count: number }>("/notifications/read", {
    method: "POST",
    body: { ids: null },
  });
  const now = new Date().toISOString();
  bell.value = {
    items: bell.value.items.map((n) => ({ ...n, read_at: n.read_at ?? now })),
    unread: answer.unread_count,
    loaded: true,
  };
}

export function getPreferences(signal?: AbortSignal): Promise<Preferences> {
  return api<Preferences>("/notifications/preferences", { signal });
}

export function savePreferences(body: Preferences): Promise<Preferences> {
  return api<Preferences>("/notifications/preferences", { method: "PUT", body });
}

/** The interface language becomes the messages' (emails, SMS, bell texts are written when
 * sent, in the stored language): saved when signed in and different. */
export async function saveMessageLanguage(language: Preferences["language"]): Promise<void> {
  const current = await getPreferences();
  if (current.language !== language) await savePreferences({ ...current, language });
}

export function getReminderOffsets(signal?: AbortSignal): Promise<{ offsets_minutes: number[] }> {
  return api("/notifications/reminder-settings", { signal });
}

export function saveReminderOffsets(offsets: number[]): Promise<{ offsets_minutes: number[] }> {
  return api("/notifications/reminder-settings", { method: "PUT", body: { offsets_minutes: offsets } });
}

export function devMailbox(channel: "" | "email" | "sms", signal?: AbortSignal): Promise<{ items: MailboxEntry[] }> {
  return api("/notifications/dev-mailbox", { query: { channel: channel || undefined, limit: 100 }, signal });
}
