// The editor's working copy of an availability, in the PUT body's shape (AvailabilityIn).
import type { Availability, DateException, SchedulingSettings, VisitReason, WeeklyRule } from "../../lib/types";

export interface Draft {
  rules: WeeklyRule[];
  exceptions: DateException[];
  reasons: VisitReason[];
  settings: SchedulingSettings;
}

/** "09:00:00" from the API → "09:00" for <input type=time> and back to the API. */
const hhmm = (time: string | null): string | null => (time ? time.slice(0, 5) : null);

export function draftOf(availability: Availability): Draft {
  return {
    rules: availability.rules.map((r) => ({
      day_of_week: r.day_of_week,
      start: hhmm(r.start) ?? "09:00",
      end: hhmm(r.end) ?? "12:00",
      slot_minutes: r.slot_minutes,
      visit_type: r.visit_type,
      location: r.location,
    })),
    exceptions: availability.exceptions.map((e) => ({ ...e, start: hhmm(e.start), end: hhmm(e.end) })),
    reasons: availability.reasons.map((r) => ({ ...r })),
    settings: { ...availability.settings },
  };
}

/** An end at or before the start is on the next day (00:00 = midnight), as the API reads it. */
export const endsNextDay = (start: string | null, end: string | null): boolean =>
  Boolean(start && end && end <= start);

/** A new row of opening hours: the place and visit type of the last row (most practices have one). */
export const newRule = (rules: readonly WeeklyRule[] = []): WeeklyRule => {
  const last = rules[rules.length - 1];
  return {
    day_of_week: 1,
    start: "09:00",
    end: "12:00",
    slot_minutes: last?.slot_minutes ?? 20,
    visit_type: last?.visit_type ?? "in-person",
    location: last?.location ?? "",
  };
};

// The editor's words for each part of the PUT body a field error names.
const SECTIONS = { rules: "rules", exceptions: "exceptions", reasons: "reasons", settings: "settings" } as const;
const FIELDS = {
  day_of_week: "day",
  start: "from",
  end: "to",
  slot_minutes: "slot",
  visit_type: "visitType",
  kind: "kind",
  start_date: "startDate",
  end_date: "endDate",
  note: "note",
  name: "reasonName",
  duration_minutes: "duration",
  fee_override: "fee",
  min_notice_minutes: "notice",
  max_horizon_days: "horizon",
  buffer_minutes: "buffer",
} as const;

export type Section = keyof typeof SECTIONS;

/** The element id of a row ("availability-rules-3"), or of a section without rows. */
export const rowId = (section: Section, index: number | null): string =>
  index === null ? `availability-${section}` : `availability-${section}-${index + 1}`;

export type PlaceWord = (typeof SECTIONS)[keyof typeof SECTIONS] | (typeof FIELDS)[keyof typeof FIELDS];

/** "rules.11.end" → section "rules", row 12, field "to" (null parts when not named). */
export function placeOf(path: string): { section: Section | null; row: number | null; field: PlaceWord | null } {
  const parts = path.split(".");
  const section = SECTIONS[parts[0] as keyof typeof SECTIONS] ?? null;
  const index = parts.find((p) => /^\d+$/.test(p));
  const last = parts[parts.length - 1] ?? "";
  return {
    section,
    row: index === undefined ? null : Number(index) + 1,
    field: FIELDS[last as keyof typeof FIELDS] ?? null,
  };
}

export const newException = (): DateException => {
  const today = new Date().toISOString().slice(0, 10);
  return { kind: "time-off", start_date: today, end_date: today, start: null, end: null, slot_minutes: null, visit_type: null, location: "", note: "" };
};

export const newReason = (): VisitReason => ({
  id: null,
  name: "",
  duration_minutes: 20,
  visit_types: ["in-person"],
  fee_override: null,
  new_patients_allowed: true,
  refund_cutoff_hours: 48,
  late_refund_percent: 50,
  cancel_reason_required: "never",
  pay_at_visit: false,
});

/** The request body: drop nulls the API treats as "not given" and ids of new reasons. */
export function bodyOf(draft: Draft): Record<string, unknown> {
  return {
    rules: draft.rules,
    exceptions: draft.exceptions.map((e) =>
      e.kind === "time-off" ? { ...e, slot_minutes: null, visit_type: null } : e,
    ),
    reasons: draft.reasons.map(({ id, ...rest }) => (id ? { id, ...rest } : rest)),
    settings: draft.settings,
  };
}

/** Replace item `index` of a list immutably. */
export function patchAt<T>(list: T[], index: number, patch: Partial<T>): T[] {
  return list.map((item, i) => (i === index ? { ...item, ...patch } : item));
}
