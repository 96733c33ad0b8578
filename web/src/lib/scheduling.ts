// Slots and appointments over REST (/api/v1/appointments), and doctors' availability.
import { api } from "./api";
import type { Appointment, AppointmentPage, Availability, Slot, SlotsPage, VisitType } from "./types";

// Mirrors the server's default patient_cancel_cutoff_h; a 409 too-late answer carries the real one.
export const CANCEL_CUTOFF_HOURS = 24;

export const ACTIVE_STATUSES = ["held", "scheduled", "confirmed"] as const;

export function isActive(appointment: Appointment): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(appointment.status);
}

// The video room's window comes with the appointment (join_opens_at / join_closes_at, from the
// server's settings): the page never guesses it.
export function videoWindowOpen(appointment: Appointment, now = Date.now()): boolean {
  const { join_opens_at: opens, join_closes_at: closes } = appointment;
  return (
    appointment.visit_type === "teleconsultation" &&
    isActive(appointment) &&
    opens !== null &&
    closes !== null &&
    now >= Date.parse(opens) &&
    now < Date.parse(closes)
  );
}

/** How many minutes before its start a teleconsultation's video room opens (null in person). */
export function videoOpensMinutesBefore(appointment: Appointment): number | null {
  const opens = appointment.join_opens_at;
  return opens === null ? null : Math.round((Date.parse(appointment.start) - Date.parse(opens)) / 60_000);
}

export interface SlotQuery {
  doctorId: string;
  from: Date;
  to: Date;
  visitType?: VisitType | "";
  reasonId?: string;
  /** Moving this appointment (one of the caller's): its time counts as free, slots take its length. */
  excludingAppointmentId?: string;
}

export function availableSlots(query: SlotQuery, signal?: AbortSignal): Promise<SlotsPage> {
  return api<SlotsPage>("/appointments/slots/available", {
    // Public, unless it leaves out the caller's own appointment.
    auth: Boolean(query.excludingAppointmentId),
    ...(signal ? { signal } : {}),
    query: {
      doctor_id: query.doctorId,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      type: query.visitType,
      reason: query.reasonId,
      excluding_appointment_id: query.excludingAppointmentId,
    },
  });
}

export interface Booking {
  doctor_id: string;
  start: string;
  visit_type: VisitType;
  reason_id?: string;
  notes?: string;
  /** A relative the caller manages (GET /me/relatives); omitted: for the caller. */
  patient_id?: string;
}

// State changes take the Idempotency-Key of the user's action (newIdempotencyKey() on press):
// a double click or a retry after a timeout then gets the first answer, not "slot taken".
export const book = (booking: Booking, idempotencyKey: string): Promise<Appointment> =>
  api<Appointment>("/appointments", { method: "POST", body: booking, idempotencyKey });

export const getAppointment = (id: string, signal?: AbortSignal): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}`, signal ? { signal } : {});

export const cancelAppointment = (id: string, idempotencyKey: string, reason?: string): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/cancel`, { method: "POST", body: reason ? { reason } : {}, idempotencyKey });

export const rescheduleAppointment = (
  id: string,
  start: string,
  visitType: VisitType,
  idempotencyKey: string,
): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/reschedule`, {
    method: "POST",
    body: { start, visit_type: visitType },
    idempotencyKey,
  });

export function patientAppointments(patientId: string, signal?: AbortSignal): Promise<AppointmentPage> {
  return api<AppointmentPage>(`/appointments/patient/${patientId}`, {
    query: { limit: 100 },
    ...(signal ? { signal } : {}),
  });
}

export function doctorAppointments(doctorId: string, from: Date, to: Date, signal?: AbortSignal): Promise<AppointmentPage> {
  return api<AppointmentPage>(`/appointments/doctor/${doctorId}`, {
    query: { from: from.toISOString(), to: to.toISOString(), limit: 100 },
    ...(signal ? { signal } : {}),
  });
}

export const getAvailability = (doctorId: string, signal?: AbortSignal): Promise<Availability> =>
  api<Availability>(`/doctors/${doctorId}/availability`, { auth: false, ...(signal ? { signal } : {}) });

/** Alternatives a 409 slot-taken problem offers: the nearest free slots. */
export function alternativesOf(problem: Record<string, unknown>): Slot[] {
  const found = problem.alternatives;
  return Array.isArray(found) ? (found as Slot[]) : [];
}

export type DoctorAction = "confirm" | "complete" | "no-show";

/** Doctor-side transitions; the server checks the state machine (allowed_transitions). */
export const transition = (id: string, action: DoctorAction, idempotencyKey: string): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/${action}`, { method: "POST", idempotencyKey });
