// The search API (/api/v1/search) and the URL form of a search, so results can be shared.
import { api } from "../../lib/api";
import { locale } from "../../lib/i18n";
import type { VisitType } from "../../lib/types";

export type SortKey = "relevance" | "distance" | "rating" | "fee" | "next_available";

export interface SearchFilters {
  q: string;
  specialty: string;
  city: string;
  radius_km: string;
  visit_type: "" | VisitType;
  language: string;
  within_days: string;
  sort: SortKey;
  lat: string;
  lon: string;
}

export const EMPTY_FILTERS: SearchFilters = {
  q: "",
  specialty: "",
  city: "",
  radius_km: "",
  visit_type: "",
  language: "",
  within_days: "",
  sort: "relevance",
  lat: "",
  lon: "",
};

export interface DoctorHit {
  id: string;
  name: string;
  first_name: string;
  last_name: string;
  photo: string | null;
  specializations: { code: string; name: string }[];
  city: string;
  postcode: string;
  fee: number;
  currency: string;
  rating: number;
  total_reviews: number;
  languages: string[];
  accepts_new_patients: boolean;
  visit_types: VisitType[];
  next_available: string | null;
  distance_km: number | null;
  time_zone: string; // the doctor's IANA zone
}

export interface SearchResults {
  items: DoctorHit[];
  total: number; // counted up to 1,000
  total_exact: boolean; // false: more than `total` doctors match
  page: number;
  size: number;
}

export interface Suggestion {
  type: "doctor" | "specialty" | "city";
  label: string;
  value: string;
}

export const PAGE_SIZE = 20;

export function filtersFromQuery(query: Record<string, string>): SearchFilters {
  const filters = { ...EMPTY_FILTERS };
  for (const key of Object.keys(EMPTY_FILTERS) as (keyof SearchFilters)[]) {
    const value = query[key];
    if (value !== undefined) (filters as Record<string, string>)[key] = value;
  }
  return filters;
}

export function queryFromFilters(filters: SearchFilters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value && !(key === "sort" && value === "relevance")) params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

export function searchDoctors(filters: SearchFilters, page: number, signal: AbortSignal): Promise<SearchResults> {
  const located = Boolean(filters.lat && filters.lon);
  return api<SearchResults>("/search/doctors", {
    auth: false,
    signal,
    query: {
      q: filters.q,
      specialty: filters.specialty,
      city: filters.city,
      lat: located ? filters.lat : "",
      lon: located ? filters.lon : "",
      radius: located ? filters.radius_km : "",
      visit_type: filters.visit_type,
      language: filters.language,
      available_within_days: filters.within_days,
      sort: filters.sort,
      page,
      size: PAGE_SIZE,
      lang: locale.value,
    },
  });
}

export function suggest(text: string, signal: AbortSignal): Promise<Suggestion[]> {
  return api<{ items: Suggestion[] }>("/search/suggestions", {
    auth: false,
    signal,
    query: { q: text, limit: 4, lang: locale.value },
  }).then((answer) => answer.items);
}
