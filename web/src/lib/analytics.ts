// The analytics API: one figure per call, for a range of days (admins: platform or a doctor;
// doctors: their own figures).
import { api, type Query } from "./api";

export interface Scope {
  first_day: string;
  last_day: string;
  time_zone: string;
  doctor_id: string | null;
}
export interface BookingsPerDay {
  scope: Scope;
  days: { day: string; count: number }[];
}
export interface Outcomes {
  scope: Scope;
  appointments: number;
  cancelled: number;
  cancellation_rate: number | null;
  past: number;
  no_show: number;
  no_show_rate: number | null;
}
export interface RevenuePerDay {
  scope: Scope;
  days: { day: string; currency: string; amount: number }[];
  source: string;
}
export interface Busiest {
  scope: Scope;
  specialties: { key: string; appointments: number }[];
  cities: { key: string; appointments: number }[];
}
export interface LeadTime {
  scope: Scope;
  visits: number;
  mean_hours: number | null;
  median_hours: number | null;
  p90_hours: number | null;
}
export interface Connected {
  sockets: Record<string, number>;
  total: number;
}

const get = <T>(path: string, query: Query): Promise<T> => api<T>(`/analytics/${path}`, { query });

export const bookingsPerDay = (q: Query) => get<BookingsPerDay>("bookings-per-day", q);
export const outcomes = (q: Query) => get<Outcomes>("outcomes", q);
export const revenuePerDay = (q: Query) => get<RevenuePerDay>("revenue-per-day", q);
export const busiest = (q: Query) => get<Busiest>("busiest", q);
export const leadTime = (q: Query) => get<LeadTime>("lead-time", q);
export const connected = () => get<Connected>("connected", {});
