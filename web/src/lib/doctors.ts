// Doctor reads shared by several pages (profile, specialties catalogue, display names).
import { api } from "./api";
import { locale } from "./i18n";
import { memoById } from "./memo";
import type { Doctor, Page, Review, Specialization } from "./types";

let catalogue: Promise<Specialization[]> | null = null;

/** The specialty catalogue changes with releases, not requests: fetch it once per page load. */
export function specializations(): Promise<Specialization[]> {
  catalogue ??= api<Specialization[]>("/specializations", { auth: false }).catch((error: unknown) => {
    catalogue = null;
    throw error;
  });
  return catalogue;
}

export function specialtyName(list: readonly Specialization[] | undefined, code: string): string {
  const found = list?.find((s) => s.code === code);
  if (!found) return code;
  return locale.value === "fr" ? found.name_fr : found.name_en;
}

export function doctorName(doctor: { first_name: string; last_name: string }): string {
  return `Dr ${doctor.first_name} ${doctor.last_name}`;
}

export const getDoctor = (id: string, signal?: AbortSignal): Promise<Doctor> =>
  api<Doctor>(`/doctors/${encodeURIComponent(id)}`, { auth: false, ...(signal ? { signal } : {}) });

export const getReviews = (id: string, offset = 0): Promise<Page<Review>> =>
  api<Page<Review>>(`/doctors/${encodeURIComponent(id)}/reviews`, { auth: false, query: { limit: 10, offset } });

/** Doctors named in lists (appointments): each fetched once per page load. */
export const doctorsById = memoById((id) => getDoctor(id));

/** Language codes (ISO 639-1) in the viewer's language: "fr" → "French" / "français". */
export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([locale.value], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

let own: Promise<Doctor> | null = null;

/** The signed-in doctor's own profile (id and time zone drive the agenda and the editor). */
export function myDoctorProfile(): Promise<Doctor> {
  own ??= api<Doctor>("/doctors/me");
  own.catch(() => (own = null));
  return own;
}
