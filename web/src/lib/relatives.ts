// Relatives the signed-in account manages (issue #24): /me/relatives.
import { ApiError, api } from "./api";
import { defineStrings } from "./i18n";
import type { BookedBy } from "./types";

export const RELATIONSHIPS = ["CHILD", "SON", "DAU", "MTH", "FTH", "PRN", "GRPRN", "GRNDCHILD", "SIB", "SPS", "FAMMEMB", "GUARD"] as const;
export type Relationship = (typeof RELATIONSHIPS)[number] | "STPCHLD" | "HUSB" | "WIFE" | "DOMPART" | "NOK";
export type ConsentBasis = "self" | "legal_guardian";

export interface Relative {
  id: string;
  first_name: string;
  last_name: string;
  date_of_birth: string | null;
  gender: string | null;
  relationship: Relationship;
  consent: { basis: ConsentBasis; at: string; by: string };
  can_view_history: boolean;
  has_own_login: boolean;
  linked_at: string;
}

export interface RelativeInput {
  first_name: string;
  last_name: string;
  date_of_birth: string | null;
  relationship: Relationship;
  consent_basis: ConsentBasis;
  consent_given: boolean;
  can_view_history: boolean;
}

export const myRelatives = (): Promise<Relative[]> => api<Relative[]>("/me/relatives");

export const addRelative = (body: RelativeInput): Promise<Relative> => api<Relative>("/me/relatives", { method: "POST", body });

export const updateRelative = (id: string, body: Partial<RelativeInput>): Promise<Relative> =>
  api<Relative>(`/me/relatives/${id}`, { method: "PUT", body });

export const removeRelative = (id: string): Promise<void> => api<void>(`/me/relatives/${id}`, { method: "DELETE" });

/** An upcoming appointment that keeps a relative nobody else manages from being removed. */
export interface UpcomingAppointment {
  id: string;
  start: string;
  end: string;
  status: "held" | "scheduled" | "confirmed";
  visit_type: string;
  doctor_id: string;
  doctor_name: string;
  /** The practice's IANA zone: shown on its clock too when the viewer's differs. */
  time_zone: string;
}

/** The appointments a refused removal lists (409 `relative-has-upcoming-appointments`). */
export function upcomingOf(error: unknown): UpcomingAppointment[] {
  if (!(error instanceof ApiError) || error.problem.code !== "relative-has-upcoming-appointments") return [];
  return (error.problem.appointments as UpcomingAppointment[] | undefined) ?? [];
}

// What the proxy is to the patient, from what the patient is to the proxy (the stored code):
// a CHILD was booked by their parent, a MTH by her child...
const PROXY_ROLE: Record<string, "parent" | "child" | "grandchild" | "grandparent" | "sibling" | "partner" | "guardian" | "family"> = {
  CHILD: "parent",
  SON: "parent",
  DAU: "parent",
  STPCHLD: "parent",
  MTH: "child",
  FTH: "child",
  PRN: "child",
  GRPRN: "grandchild",
  GRNDCHILD: "grandparent",
  SIB: "sibling",
  SPS: "partner",
  HUSB: "partner",
  WIFE: "partner",
  DOMPART: "partner",
  GUARD: "guardian",
};

export const bookedByStrings = defineStrings({
  en: {
    bookedBy: "Booked by {name} ({role})",
    role_parent: "parent",
    role_child: "child",
    role_grandchild: "grandchild",
    role_grandparent: "grandparent",
    role_sibling: "sibling",
    role_partner: "partner",
    role_guardian: "guardian",
    role_family: "family",
  },
  fr: {
    bookedBy: "Réservé par {name} ({role})",
    role_parent: "parent",
    role_child: "enfant",
    role_grandchild: "petit-enfant",
    role_grandparent: "grand-parent",
    role_sibling: "frère ou sœur",
    role_partner: "conjoint(e)",
    role_guardian: "tuteur",
    role_family: "famille",
  },
});

/** "Booked by Claire Martin (parent)" for an appointment a proxy booked; null otherwise. */
export function bookedByText(bookedBy: BookedBy | null | undefined, t: (key: keyof (typeof bookedByStrings)["en"] & string, params?: Record<string, string>) => string): string | null {
  if (!bookedBy) return null;
  const role = PROXY_ROLE[bookedBy.relationship] ?? "family";
  return t("bookedBy", { name: bookedBy.name, role: t(`role_${role}`) });
}
