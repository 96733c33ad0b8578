// Slots and appointments over REST (/api/v1/appointments), and doctors' availability.
import { api } from "./api";
import type { Appointment, AppointmentPage, Availability, Slot, SlotsPage, VisitType } from "./types";

// Mirrors the server's default patient_cancel_cutoff_h; a 409 too-late answer carries the real one.
export const CANCEL_CUTOFF_HOURS = 24;
// The video room opens this long before the start and closes this long after the end (the
// server's MARKINI_CONSULT_JOIN_EARLY_S / _GRACE_S defaults; the server has the last word).
export const VIDEO_OPENS_MINUTES = 15;
export const VIDEO_GRACE_MINUTES = 30;

export const ACTIVE_STATUSES = ["held", "scheduled", "confirmed"] as const;

export function isActive(appointment: Appointment): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(appointment.status);
}

export function videoWindowOpen(appointment: Appointment, now = Date.now()): boolean {
  return (
    appointment.visit_type === "teleconsultation" &&
    isActive(appointment) &&
    now >= Date.parse(appointment.start) - VIDEO_OPENS_MINUTES * 60_000 &&
    now < Date.parse(appointment.end) + VIDEO_GRACE_MINUTES * 60_000
  );
}

export interface SlotQuery {
  doctorId: string;
  from: Date;
  to: Date;
  visitType?: VisitType | "";
  reasonId?: string;
}

export function availableSlots(query: SlotQuery, signal?: AbortSignal): Promise<SlotsPage> {
  return api<SlotsPage>("/appointments/slots/available", {
    auth: false,
    ...(signal ? { signal } : {}),
    query: {
      doctor_id: query.doctorId,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      visit_type: query.visitType,
      reason_id: query.reasonId,
    },
  });
}

export interface Booking {
  doctor_id: string;
  start: string;
  visit_type: VisitType;
  reason_id?: string;
  notes?: string;
}

export const book = (booking: Booking): Promise<Appointment> =>
  api<Appointment>("/appointments", { method: "POST", body: booking });

export const getAppointment = (id: string, signal?: AbortSignal): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}`, signal ? { signal } : {});

export const cancelAppointment = (id: string, reason?: string): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/cancel`, { method: "POST", body: reason ? { reason } : {} });

export const rescheduleAppointment = (id: string, start: string, visitType: VisitType): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/reschedule`, { method: "POST", body: { start, visit_type: visitType } });

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
export const transition = (id: string, action: DoctorAction): Promise<Appointment> =>
  api<Appointment>(`/appointments/${id}/${action}`, { method: "POST" });
