// Shapes of the API's JSON (the contract is /openapi.json); times are ISO 8601 with offsets,
// money is integer minor units plus an ISO currency.

export type Role = "patient" | "doctor" | "admin";
export type VisitType = "in-person" | "teleconsultation";
export type AppointmentStatus = "held" | "scheduled" | "confirmed" | "completed" | "cancelled" | "no-show";

export interface Specialization {
  code: string;
  name_en: string;
  name_fr: string;
}

export interface Doctor {
  id: string;
  user_id: string;
  first_name: string;
  last_name: string;
  specializations: string[];
  years_of_experience: number;
  consultation_fee: number;
  currency: string;
  bio: string;
  profile_image_url: string | null;
  languages: string[];
  address_line: string;
  city: string;
  postcode: string;
  country: string;
  latitude: number | null;
  longitude: number | null;
  time_zone: string;
  accepts_new_patients: boolean;
  verification_status: "unverified" | "verified" | "rejected";
  rating: number;
  total_reviews: number;
}

export interface Review {
  id: string;
  doctor_id: string;
  appointment_id: string;
  rating: number;
  comment: string;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Slot {
  start: string;
  end: string;
  visit_type: VisitType;
}

export interface SlotsPage {
  doctor_id: string;
  time_zone: string;
  from: string;
  to: string;
  availability_version: number;
  slots: Slot[];
  /** Patients may cancel or move online until this many hours before an appointment. */
  patient_cutoff_hours?: number | null;
}

export interface Appointment {
  id: string;
  doctor_id: string;
  patient_id: string;
  start: string;
  end: string;
  time_zone: string;
  visit_type: VisitType;
  status: AppointmentStatus;
  reason_id: string | null;
  reason_name: string | null;
  location: string;
  notes: string;
  fee: number;
  currency: string;
  hold_expires_at: string | null;
  cancelled_by: string | null;
  cancellation_reason: string | null;
  created_at: string;
  updated_at: string;
  /** What the caller may do now (role, status, clock and the patients' cut-off considered). */
  allowed_transitions: string[];
  /** Actions the status allows this caller but the clock does not: why. */
  refused_transitions: Record<string, "not_started" | "cutoff">;
  /** To the patient of an active appointment: until when it can be changed online. */
  patient_cutoff_at: string | null;
  /** Teleconsultations: when the video room opens and closes (the server's settings); null in person. */
  join_opens_at: string | null;
  join_closes_at: string | null;
  /** In a doctor's agenda only: what the doctor may see of the patient (null elsewhere). */
  patient?: AgendaPatient | null;
  /** A proxy (a parent, a child...) who booked for the patient; null when they booked themself. */
  booked_by?: BookedBy | null;
}

export interface BookedBy {
  id: string;
  name: string;
  /** What the patient is to the proxy (FHIR v3-RoleCode: CHILD, MTH, FTH, PRN, SPS, GRPRN...). */
  relationship: string;
}

export interface AgendaPatient {
  first_name: string;
  last_name: string;
  /** Null when unknown or when the doctor has no booked appointment with the patient. */
  age: number | null;
  phone: string | null;
  first_visit: boolean;
  erased: boolean;
}

export type AppointmentPage = Page<Appointment>;

export interface WeeklyRule {
  day_of_week: number;
  start: string;
  end: string;
  slot_minutes: number;
  visit_type: VisitType;
  location: string;
}

export interface DateException {
  kind: "time-off" | "extra-hours";
  start_date: string;
  end_date: string | null;
  start: string | null;
  end: string | null;
  slot_minutes: number | null;
  visit_type: VisitType | null;
  location: string;
  note: string;
}

export interface VisitReason {
  id: string | null;
  name: string;
  duration_minutes: number;
  visit_types: VisitType[];
  fee_override: number | null;
  new_patients_allowed: boolean;
  // Cancellation policy (issue #22); optional in drafts, the server's defaults apply.
  refund_cutoff_hours?: number;
  late_refund_percent?: number;
  cancel_reason_required?: "never" | "late" | "always";
  pay_at_visit?: boolean;
}

export interface SchedulingSettings {
  min_notice_minutes: number;
  max_horizon_days: number;
  buffer_minutes: number;
}

export interface Availability {
  doctor_id: string;
  time_zone: string;
  availability_version: number;
  rules: WeeklyRule[];
  exceptions: DateException[];
  reasons: VisitReason[];
  settings: SchedulingSettings;
}

export interface SlotDelta {
  doctor_id: string;
  kind: "held" | "booked" | "released" | "added" | "removed" | "resync";
  slot: Slot | null;
  availability_version: number;
  occurred_at: string;
}

export interface PatientProfile {
  id: string;
  user_id: string | null;
  first_name: string;
  last_name: string;
  date_of_birth: string | null;
  gender: string | null;
  phone: string | null;
  address: Record<string, string>;
  insurance_info: Record<string, string>;
}

export interface MedicalEntry {
  id: string;
  patient_id: string;
  condition: string;
  diagnosis_date: string | null;
  notes: string | null;
  created_by: string | null;
  created_at: string;
}
