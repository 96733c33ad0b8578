// The booking page's address carries the choice, so sign-in can send the patient back to it.
import type { Slot, VisitType } from "../../lib/types";

export interface BookingChoice {
  doctorId: string;
  slot: Slot;
  reasonId: string;
}

export function bookingUrl({ doctorId, slot, reasonId }: BookingChoice): string {
  const params = new URLSearchParams({ doctor: doctorId, start: slot.start, end: slot.end, visit: slot.visit_type });
  if (reasonId) params.set("reason", reasonId);
  return `/book?${params.toString()}`;
}

export function choiceFromQuery(query: Record<string, string>): BookingChoice | null {
  const { doctor, start, end, visit } = query;
  if (!doctor || !start || !end || (visit !== "in-person" && visit !== "teleconsultation")) return null;
  return { doctorId: doctor, slot: { start, end, visit_type: visit as VisitType }, reasonId: query.reason ?? "" };
}
