// The doctor's appointments in a range, re-read whenever /agenda says something changed.
import { useEffect, useRef, useState } from "preact/hooks";
import { doctorAppointments } from "../../lib/scheduling";
import { openSocket } from "../../lib/socket";
import type { LiveStatus } from "../../lib/liveSlots";
import type { AgendaPatient, Appointment } from "../../lib/types";

// docs/realtime.md: /agenda carries the scheduling event types themselves.
const APPOINTMENT_EVENTS = [
  "appointment.created",
  "appointment.confirmed",
  "appointment.cancelled",
  "appointment.rescheduled",
  "appointment.completed",
  "appointment.no_show",
  "appointment.updated",
] as const;
// Waiting-room news from the teleconsultation domain (signaling/protocol.py AGENDA_WAITING):
// `waiting` true when the patient enters the waiting room, false once admitted or gone.
const WAITING = "teleconsultation.waiting";

interface WaitingNews {
  session_id: string;
  appointment_id: string;
  patient_id: string;
  patient: AgendaPatient | null;
  waiting: boolean;
  at: string;
}

/** Appointment id -> its waiting patient, as the news named them. */
export type Waiting = ReadonlyMap<string, AgendaPatient | null>;

function withWaiting(current: Waiting, news: WaitingNews): Waiting {
  const next = new Map(current);
  if (news.waiting) next.set(news.appointment_id, news.patient);
  else next.delete(news.appointment_id);
  return next;
}

export type AgendaEvent = (typeof APPOINTMENT_EVENTS)[number];

export interface Agenda {
  items: Appointment[];
  loading: boolean;
  error: unknown;
  status: LiveStatus;
  waiting: Waiting;
  lastEvent: { type: AgendaEvent; appointmentId: string } | null;
}

export function useAgenda(doctorId: string | undefined, from: Date, to: Date): Agenda {
  const [items, setItems] = useState<Appointment[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [waiting, setWaiting] = useState<Waiting>(new Map());
  const [lastEvent, setLastEvent] = useState<Agenda["lastEvent"]>(null);
  const range = useRef({ from, to });
  range.current = { from, to };
  const reload = useRef<() => void>(() => undefined);

  useEffect(() => {
    if (!doctorId) return;
    let controller = new AbortController();
    const load = async () => {
      controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      setLoading(true);
      try {
        const page = await doctorAppointments(doctorId, range.current.from, range.current.to, signal);
        if (!signal.aborted) {
          setItems(page.items.sort((a, b) => Date.parse(a.start) - Date.parse(b.start)));
          setError(undefined);
        }
      } catch (caught) {
        if (!signal.aborted) setError(caught);
      } finally {
        if (!signal.aborted) setLoading(false);
      }
    };
    reload.current = () => void load();
    const socket = openSocket("/agenda");
    let everConnected = false;
    socket.on("connect", () => {
      void load();
      setStatus(everConnected ? "resynced" : "live");
      everConnected = true;
    });
    socket.on("disconnect", () => setStatus("reconnecting"));
    for (const type of APPOINTMENT_EVENTS) {
      socket.on(type, (payload: { appointment_id: string }) => {
        setLastEvent({ type, appointmentId: payload.appointment_id });
        void load();
      });
    }
    socket.on(WAITING, (news: WaitingNews) => setWaiting((current) => withWaiting(current, news)));
    void load();
    return () => {
      controller.abort();
      socket.close();
    };
  }, [doctorId]);

  useEffect(() => reload.current(), [from.getTime(), to.getTime()]);
  return { items, loading, error, status, waiting, lastEvent };
}
