// A doctor's free slots kept live: REST snapshot + Socket.IO /availability deltas ordered by
// availability_version. On reconnect it re-subscribes and re-reads the snapshot, so nothing
// that happened while offline is missed (docs/realtime.md).
import { useEffect, useRef, useState } from "preact/hooks";
import { availableSlots } from "./scheduling";
import { openSocket, request } from "./socket";
import type { Slot, SlotDelta, VisitType } from "./types";

export type LiveStatus = "connecting" | "live" | "reconnecting" | "resynced";

export interface LiveQuery {
  doctorId: string;
  from: Date;
  to: Date;
  visitType: VisitType | "";
  reasonId: string;
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
  const live = useRef({ query, version: -1, buffering: true, buffer: [] as SlotDelta[], resubscribe: () => {} });
  live.current.query = query;
  const key = `${query.doctorId}|${query.from.toISOString()}|${query.to.toISOString()}|${query.visitType}|${query.reasonId}`;

  useEffect(() => {
    const state = live.current;
    let closed = false;
    let everConnected = false;
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    let controller = new AbortController();

    const apply = (delta: SlotDelta) => {
      if (delta.kind === "resync") return void load();
      if (delta.availability_version <= state.version) return; // already in the snapshot
      state.version = delta.availability_version;
      const slot = delta.slot;
      if (!slot) return;
      if (delta.kind === "held" || delta.kind === "booked" || delta.kind === "removed") {
        setSlots((current) => withoutOverlapping(current, slot));
      } else if (state.query.reasonId) {
        // Reason slots have the reason's length, not the freed slot's: ask the server.
        void load();
      } else if (inQuery(slot, state.query)) {
        setSlots((current) => withSlot(current, slot));
      }
    };

    async function load(): Promise<void> {
      controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      state.buffering = true;
      state.buffer = [];
      setLoading(true);
      try {
        const page = await availableSlots(state.query, signal);
        if (signal.aborted) return;
        state.version = page.availability_version;
        setSlots(page.slots.filter((s) => Date.parse(s.start) > Date.now()));
        setError(undefined);
        state.buffering = false;
        state.buffer.splice(0).forEach(apply);
      } catch (caught) {
        if (!signal.aborted) setError(caught);
      } finally {
        if (!signal.aborted) setLoading(false);
      }
    }

    const socket = openSocket("/availability");
    const subscribe = () => {
      const q = state.query;
      void request(socket, "subscribe", { doctor_id: q.doctorId, from: q.from.toISOString(), to: q.to.toISOString() }).catch(
        () => undefined, // the snapshot still shows; deltas resume on the next connect
      );
    };
    socket.on("connect", () => {
      subscribe();
      void load().then(() => {
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
      if (delta.doctor_id !== state.query.doctorId) return;
      if (state.buffering) state.buffer.push(delta);
      else apply(delta);
    });
    // Until the socket connects the page still shows slots, read over REST.
    void load();
    state.resubscribe = () => {
      if (socket.connected) subscribe();
      void load();
    };
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
    live.current.resubscribe();
  }, [key]);

  return {
    slots,
    loading,
    error,
    status,
    drop: (slot) => setSlots((current) => withoutOverlapping(current, slot)),
  };
}
