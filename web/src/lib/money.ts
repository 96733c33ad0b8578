// Money arrives as integer minor units plus an ISO currency (see contracts).
import { formatLocale } from "./i18n";

export function formatMoney(minor: number, currency: string): string {
  const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(formatLocale(), { style: "currency", currency }).format(minor / 10 ** digits);
}

export function formatDistance(km: number): string {
  const unit = km < 1 ? "meter" : "kilometer";
  const value = km < 1 ? Math.round(km * 1000) : Math.round(km * 10) / 10;
  return new Intl.NumberFormat(formatLocale(), { style: "unit", unit, maximumFractionDigits: 1 }).format(value);
}
