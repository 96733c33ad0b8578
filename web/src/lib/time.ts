// Dates and times shown in the viewer's time zone (the browser's), with the doctor's zone named
// when it differs, so "10:00" never silently means two different instants.
import { formatLocale } from "./i18n";

export const viewerZone: string = Intl.DateTimeFormat().resolvedOptions().timeZone;

const DAY_MS = 86_400_000;

function format(iso: string | Date, options: Intl.DateTimeFormatOptions, zone?: string): string {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  return new Intl.DateTimeFormat(formatLocale(), { timeZone: zone ?? viewerZone, ...options }).format(date);
}

export const formatTime = (iso: string | Date, zone?: string): string =>
  format(iso, { hour: "2-digit", minute: "2-digit" }, zone);

export const formatDay = (iso: string | Date, zone?: string): string =>
  format(iso, { weekday: "short", day: "numeric", month: "short" }, zone);

export const formatLongDate = (iso: string | Date, zone?: string): string =>
  format(iso, { weekday: "long", day: "numeric", month: "long", year: "numeric" }, zone);

export const formatDateTime = (iso: string | Date, zone?: string): string =>
  format(iso, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }, zone);

/** "14:30" plus, when the doctor's zone differs, "(13:30 Europe/London)". */
export function formatTimeWithZone(iso: string, doctorZone: string): string {
  const local = formatTime(iso);
  if (!differsFromViewer(doctorZone, iso)) return local;
  return `${local} (${inZone(formatTime, iso, doctorZone)})`;
}

/** "Tue 1 Dec, 09:00" on the doctor's clock, plus " Paris" when the viewer's clock differs. */
export function formatDateTimeInZone(iso: string, doctorZone: string): string {
  return differsFromViewer(doctorZone, iso) ? inZone(formatDateTime, iso, doctorZone) : formatDateTime(iso);
}

/** A time formatted on `zone`'s clock, followed by the zone's name. */
function inZone(formatter: (iso: string, zone?: string) => string, iso: string, zone: string): string {
  return `${formatter(iso, zone)} ${zoneName(zone)}`;
}

/** Different zone names can share an offset (Europe/Paris and Europe/Berlin): compare offsets. */
export function differsFromViewer(zone: string, at: string | Date = new Date()): boolean {
  return offsetLabel(zone, at) !== offsetLabel(viewerZone, at);
}

export function zoneName(zone: string): string {
  return zone.split("/").pop()?.replace(/_/g, " ") ?? zone;
}

function offsetLabel(zone: string, at: string | Date): string {
  const parts = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(
    typeof at === "string" ? new Date(at) : at,
  );
  return parts.find((p) => p.type === "timeZoneName")?.value ?? zone;
}

/** Local midnight (viewer's zone) of the Monday of the week holding `day`. */
export function startOfWeek(day: Date): Date {
  const d = new Date(day.getFullYear(), day.getMonth(), day.getDate());
  const offset = (d.getDay() + 6) % 7; // Monday = 0
  d.setDate(d.getDate() - offset);
  return d;
}

export function startOfDay(day: Date): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate());
}

/** Calendar arithmetic in local time (DST-safe: days may have 23 or 25 hours). */
export function addDays(day: Date, days: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + days, day.getHours(), day.getMinutes());
}

/** yyyy-mm-dd of a local date: the key slots are grouped by. */
export function dayKey(date: Date | string): string {
  const d = typeof date === "string" ? new Date(date) : date;
  const mm = String(d.getMonth() + 1).padStart(2, "0");
  const dd = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${mm}-${dd}`;
}

export function daysBetween(from: Date, to: Date): number {
  return Math.round((startOfDay(to).getTime() - startOfDay(from).getTime()) / DAY_MS);
}
