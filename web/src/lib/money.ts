// Money arrives as integer minor units plus an ISO currency (see contracts).
import { formatLocale } from "./i18n";

/** The currency's exponent: 2 for EUR (cents), 0 for JPY. */
export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat(formatLocale(), { style: "currency", currency }).format(minor / 10 ** currencyDigits(currency));
}

/** 4000 EUR cents → "40.00", the amount a person types (major units, no grouping). */
export function majorAmount(minor: number, currency: string): string {
  const digits = currencyDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/** What a money field accepts: digits, then a point or comma and at most the currency's decimals. */
export function amountPattern(currency: string): string {
  const digits = currencyDigits(currency);
  return digits === 0 ? "[0-9]+" : `[0-9]+([.,][0-9]{0,${digits}})?`;
}

/** "40", "40.5" or "40,50" EUR → 4000, 4050, 4050 minor units; null when not an amount. */
export function minorAmount(text: string, currency: string): number | null {
  const trimmed = text.trim();
  if (!new RegExp(`^(?:${amountPattern(currency)})$`).test(trimmed)) return null;
  const [whole = "0", fraction = ""] = trimmed.split(/[.,]/);
  const digits = currencyDigits(currency);
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

export function formatDistance(km: number): string {
  const unit = km < 1 ? "meter" : "kilometer";
  const value = km < 1 ? Math.round(km * 1000) : Math.round(km * 10) / 10;
  return new Intl.NumberFormat(formatLocale(), { style: "unit", unit, maximumFractionDigits: 1 }).format(value);
}
