// The waitlist: entries (waiting for an earlier slot with one doctor) and their open offers.
import { api, newIdempotencyKey } from "./api";
import type { VisitType } from "./types";

export interface Offer {
  id: string;
  appointment_id: string;
  start: string;
  end: string;
  expires_at: string;
}

export interface WaitlistEntry {
  id: string;
  doctor_id: string;
  visit_type: VisitType;
  reason_id: string | null;
  earliest: string;
  latest: string;
  weekdays: number[];
  day_from: string | null;
  day_until: string | null;
  replaces_appointment_id: string | null;
  status: "waiting" | "offered";
  created_at: string;
  offer: Offer | null;
}

export interface JoinBody {
  doctor_id: string;
  visit_type: VisitType;
  earliest: string;
  latest: string;
  day_from?: string;
  day_until?: string;
}

export const myWaitlist = async (signal?: AbortSignal): Promise<WaitlistEntry[]> =>
  (await api<{ items: WaitlistEntry[] }>("/waitlist", signal ? { signal } : {})).items;

export const joinWaitlist = (body: JoinBody) =>
  api<WaitlistEntry>("/waitlist", { method: "POST", body, idempotencyKey: newIdempotencyKey() });

export const leaveWaitlist = (entryId: string) => api<void>(`/waitlist/${entryId}`, { method: "DELETE" });

export const acceptOffer = (offerId: string) =>
  api<{ id: string }>(`/waitlist/offers/${offerId}/accept`, { method: "POST", idempotencyKey: newIdempotencyKey() });

export const declineOffer = (offerId: string) =>
  api<void>(`/waitlist/offers/${offerId}/decline`, { method: "POST", idempotencyKey: newIdempotencyKey() });

/** Where an appointment stands in its doctor's day (running late, queue position). */
export interface QueueStanding {
  appointment_id: string;
  position: number;
  declared_minutes: number;
  inferred_minutes: number;
  delay_minutes: number;
  start: string;
  expected_start: string;
}

export const appointmentQueue = (appointmentId: string, signal?: AbortSignal) =>
  api<QueueStanding>(`/waitlist/appointments/${appointmentId}/queue`, signal ? { signal } : {});

export const declareRunningLate = (doctorId: string, minutes: number) =>
  api<{ minutes: number }>(`/waitlist/doctors/${doctorId}/running-late`, {
    method: "PUT",
    body: { minutes },
    idempotencyKey: newIdempotencyKey(),
  });
