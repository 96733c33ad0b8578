// The waitlist: entries (waiting for an earlier slot with one doctor, or with any doctor of a
// specialty in a city or radius) and their open offers; the practice's settings and the
// cancellation policy (shown before booking and at cancelling).
import { api, newIdempotencyKey } from "./api";
import type { VisitType } from "./types";

export interface Offer {
  id: string;
  doctor_id: string;
  appointment_id: string;
  start: string;
  end: string;
  expires_at: string;
}

export interface Near {
  latitude: number;
  longitude: number;
  radius_km: number;
}

export interface WaitlistEntry {
  id: string;
  /** Whom it is for: the signed-in patient, or a relative they manage. */
  patient_id: string;
  doctor_id: string | null;
  specialty: string | null;
  city: string | null;
  near: Near | null;
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
  /** A relative the caller manages; omitted: the caller themself. */
  patient_id?: string;
  doctor_id?: string;
  specialty?: string;
  city?: string;
  near?: Near;
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

/** The visit reason's cancellation policy, shown before booking. */
export interface CancellationPolicy {
  refund_cutoff_hours: number;
  late_refund_percent: number;
  reason_required: "never" | "late" | "always";
  online_cancel_cutoff_hours: number;
  pay_at_visit: boolean;
  prepay_required: boolean;
}

export const cancellationPolicy = (doctorId: string, reasonId: string | null, signal?: AbortSignal) =>
  api<CancellationPolicy>(
    `/waitlist/doctors/${doctorId}/cancellation-policy${reasonId ? `?reason_id=${encodeURIComponent(reasonId)}` : ""}`,
    signal ? { signal } : {},
  );

/** What cancelling an appointment now means for its patient. */
export interface CancellationQuote {
  late: boolean;
  reason_required: boolean;
  refund_cutoff_at: string;
  refund_cutoff_hours: number;
  late_refund_percent: number;
  paid: number;
  refund: number;
  currency: string;
}

export const cancellationQuote = (appointmentId: string, signal?: AbortSignal) =>
  api<CancellationQuote>(`/waitlist/appointments/${appointmentId}/cancellation`, signal ? { signal } : {});

export interface PracticeSettings {
  offer_minutes: number;
  prepay_no_show_threshold: number | null;
}

export const practiceSettings = (doctorId: string, signal?: AbortSignal) =>
  api<PracticeSettings>(`/waitlist/doctors/${doctorId}/settings`, signal ? { signal } : {});

export const savePracticeSettings = (doctorId: string, body: PracticeSettings) =>
  api<PracticeSettings>(`/waitlist/doctors/${doctorId}/settings`, {
    method: "PUT",
    body,
    idempotencyKey: newIdempotencyKey(),
  });
