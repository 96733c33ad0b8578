// English and French strings: each page owns its dictionary (pages/<page>/strings.ts); the
// chosen language is remembered in localStorage and drives <html lang>.
import { signal } from "@preact/signals";

export type Locale = "en" | "fr";
export const LOCALES: readonly Locale[] = ["en", "fr"];
const STORAGE_KEY = "markini.locale";

function initialLocale(): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === "en" || stored === "fr") return stored;
  return navigator.language.toLowerCase().startsWith("fr") ? "fr" : "en";
}

export const locale = signal<Locale>(initialLocale());
document.documentElement.lang = locale.value;

export function setLocale(next: Locale): void {
  locale.value = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

/** Locale for dates and numbers: the browser's own region when it speaks the chosen language
 * (en-GB keeps 24-hour times, fr-CA its own formats), else the language itself. */
export function formatLocale(): string {
  const lang = locale.value;
  return navigator.languages.find((tag) => tag.toLowerCase().split("-")[0] === lang) ?? lang;
}

/** French must translate every English key: a missing one is a type error, not a blank. */
export type Dictionary<T extends Record<string, string>> = { en: T; fr: { [K in keyof T]: string } };

export function defineStrings<T extends Record<string, string>>(strings: Dictionary<T>): Dictionary<T> {
  return strings;
}

export type Params = Record<string, string | number>;
export type Translate<K extends string> = (key: K, params?: Params) => string;

/** Fill `{name}` blanks from `params`; unknown blanks stay as they are. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Translator for the current language; reading `locale` re-renders the caller on a switch. */
export function useT<T extends Record<string, string>>(dict: Dictionary<T>): Translate<keyof T & string> {
  const table: Record<string, string> = dict[locale.value];
  return (key, params) => interpolate(table[key] ?? key, params);
}

/** Pick `<key>_one` / `<key>_other` by the language's plural rules, with {count} filled in. */
export function plural<K extends string>(t: Translate<K>, key: string, count: number): string {
  const rule = new Intl.PluralRules(locale.value).select(count) === "one" ? "one" : "other";
  return t(`${key}_${rule}` as K, { count });
}
