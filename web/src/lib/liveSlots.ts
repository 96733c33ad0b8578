// A doctor's free slots kept live: the /availability subscription's snapshot, then its deltas
// by availability_version. On reconnect it subscribes again and takes the new snapshot, so
// nothing that happened while offline is missed (docs/realtime.md).
import { useEffect, useRef, useState } from "preact/hooks";
import { availableSlots } from "./scheduling";
import { openSocket, request } from "./socket";
import type { Slot, SlotDelta, SlotsPage, VisitType } from "./types";

export type LiveStatus = "connecting" | "live" | "reconnecting" | "resynced";

export interface LiveQuery {
  doctorId: string;
  from: Date;
  to: Date;
  visitType: VisitType | "";
  reasonId: string;
  /** The appointment being moved: the server counts its time as free (docs/realtime.md). */
  excludingAppointmentId?: string;
  /** The doctor's availability changed (a `resync` delta): hours, reasons or settings. */
  onAvailabilityChanged?: () => void;
}

export interface LiveSlots {
  slots: Slot[];
  loading: boolean;
  error: unknown;
  status: LiveStatus;
  /** Forget a slot at once (e.g. after the server said it is taken), before the delta lands. */
  drop: (slot: Slot) => void;
}

// How long "reconnected, up to date" stays on screen.
const RESYNC_NOTICE_MS = 5_000;

// Compare instants, not strings: two offsets can spell the same time differently.
const overlaps = (a: Slot, b: Slot): boolean =>
  Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);

function withoutOverlapping(slots: Slot[], taken: Slot): Slot[] {
  return slots.filter((s) => !overlaps(s, taken));
}

function withSlot(slots: Slot[], slot: Slot): Slot[] {
  const at = Date.parse(slot.start);
  if (slots.some((s) => Date.parse(s.start) === at && s.visit_type === slot.visit_type)) return slots;
  return [...slots, slot].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

function inQuery(slot: Slot, query: LiveQuery): boolean {
  const start = Date.parse(slot.start);
  return (
    start >= query.from.getTime() &&
    start < query.to.getTime() &&
    start > Date.now() &&
    (!query.visitType || slot.visit_type === query.visitType)
  );
}

export function useLiveSlots(query: LiveQuery): LiveSlots {
  const [slots, setSlots] = useState<Slot[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  // `version`: the availability_version of the snapshot on screen. Deltas are buffered while
  // a snapshot is read, so none is applied before the snapshot it follows.
  const live = useRef({ query, version: -1, buffering: true, buffer: [] as SlotDelta[], resync: () => {} });
  live.current.query = query;
  const key = `${query.doctorId}|${query.from.toISOString()}|${query.to.toISOString()}|${query.visitType}|${query.reasonId}|${query.excludingAppointmentId ?? ""}`;

  useEffect(() => {
    const state = live.current;
    let closed = false;
    let everConnected = false;
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    let controller = new AbortController();
    const socket = openSocket("/availability");

    // docs/realtime.md, "Client algorithm". The version is compared with the snapshot's, not
    // with the last delta's: one change may send several deltas of one version (a reschedule
    // inside the range releases one slot and books another), and each must be applied. Gaps in
    // versions are normal (changes outside the range send nothing); when the server cannot
    // vouch for the order it sends `resync`.
    const apply = (delta: SlotDelta) => {
      if (state.buffering) return void state.buffer.push(delta);
      if (delta.availability_version <= state.version) return; // in the snapshot, or an older subscription's
      if (delta.kind === "resync") {
        // Rules, reasons or settings changed: the page re-reads what it shows of them too.
        state.query.onAvailabilityChanged?.();
        return void sync();
      }
      // Deltas are not filtered for a move list (its own slot's changes included): read it again.
      if (state.query.excludingAppointmentId) return void sync();
      const slot = delta.slot;
      if (!slot) return;
      if (delta.kind === "held" || delta.kind === "booked" || delta.kind === "removed") {
        setSlots((current) => withoutOverlapping(current, slot));
      } else if (state.query.visitType || state.query.reasonId) {
        // A freed time may open other visit types, and reason slots have the reason's length:
        // a filtered view asks the server again.
        void sync();
      } else if (inQuery(slot, state.query)) {
        setSlots((current) => withSlot(current, slot));
      }
    };

    // The snapshot deltas continue from: the subscription's own (all visit types, filtered
    // here), or read over REST after it for a reason, or before the socket connects.
    async function snapshot(signal: AbortSignal): Promise<SlotsPage> {
      const q = state.query;
      if (socket.connected) {
        try {
          const range = {
            doctor_id: q.doctorId,
            from: q.from.toISOString(),
            to: q.to.toISOString(),
            ...(q.excludingAppointmentId ? { excluding_appointment_id: q.excludingAppointmentId } : {}),
          };
          const page = await request<SlotsPage>(socket, "subscribe", range);
          if (!q.reasonId) return page;
        } catch {
          // Not subscribed: the REST snapshot still shows; deltas resume on the next connect.
        }
      }
      return availableSlots(q, signal);
    }

    async function sync(): Promise<void> {
      controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      state.buffering = true;
      state.buffer = [];
      setLoading(true);
      try {
        const page = await snapshot(signal);
        if (signal.aborted) return;
        state.version = page.availability_version;
        setSlots(page.slots.filter((s) => inQuery(s, state.query)));
        setError(undefined);
        state.buffering = false;
        state.buffer.splice(0).forEach(apply);
      } catch (caught) {
        if (!signal.aborted) setError(caught);
      } finally {
        if (!signal.aborted) setLoading(false);
      }
    }

    // The server forgets subscriptions on disconnect: every connect subscribes afresh.
    socket.on("connect", () => {
      void sync().then(() => {
        if (closed) return;
        if (everConnected) {
          setStatus("resynced");
          clearTimeout(noticeTimer);
          noticeTimer = setTimeout(() => setStatus("live"), RESYNC_NOTICE_MS);
        } else setStatus("live");
        everConnected = true;
      });
    });
    socket.on("disconnect", () => !closed && setStatus("reconnecting"));
    socket.on("slot.delta", (delta: SlotDelta) => {
      if (delta.doctor_id === state.query.doctorId) apply(delta);
    });
    // Until the socket connects the page still shows slots, read over REST.
    void sync();
    state.resync = () => void sync();
    return () => {
      closed = true;
      clearTimeout(noticeTimer);
      controller.abort();
      socket.close();
    };
  }, [query.doctorId]);

  // A new week, visit type or reason: subscribe to the new range and read it afresh.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    live.current.resync();
  }, [key]);

  return {
    slots,
    loading,
    error,
    status,
    drop: (slot) => setSlots((current) => withoutOverlapping(current, slot)),
  };
}
