// Server refusals in the reader's language, by their stable codes (README, "Error codes"):
// a problem's `code`, a field error's `code`, a socket refusal's `code`. The server's English
// text is the fallback for a code this build does not know yet.
import errorStrings from "./errorStrings.json";
import { interpolate, locale, type Params } from "./i18n";
import { common } from "./strings";

type Table = Record<string, string>;
const TABLES: Record<"en" | "fr", Table> = errorStrings;

/** What a field error carries (`field` is a dotted path such as "rules.2.end"). */
export interface FieldProblem {
  field: string;
  message: string;
  code?: string;
  location?: string;
  params?: Params;
}

/** Appointment statuses are words of the interface too ("scheduled" → "Prévu"). */
function localParams(params: Params): Params {
  const status = params.status;
  if (typeof status !== "string") return params;
  const word = (common[locale.value] as Table)[`status_${status}`];
  return { ...params, status: word ? word.toLowerCase() : status };
}

function translated(key: string, params: Params): string | undefined {
  const template = TABLES[locale.value][key];
  return template === undefined ? undefined : interpolate(template, localParams(params));
}

/** A problem body's members that can fill blanks (`retry_after`), then its `params`. */
function problemParams(problem: Record<string, unknown>): Params {
  const params: Params = {};
  for (const [name, value] of Object.entries(problem)) {
    if (typeof value === "string" || typeof value === "number") params[name] = value;
  }
  const own = problem.params;
  return typeof own === "object" && own !== null ? { ...params, ...(own as Params) } : params;
}

/** One sentence for a problem body, or undefined when it has neither a known code nor text. */
export function problemText(problem: Record<string, unknown>): string | undefined {
  const code = typeof problem.code === "string" ? problem.code : undefined;
  const known = code === undefined ? undefined : translated(`problem.${code}`, problemParams(problem));
  if (known !== undefined) return known;
  const english = problem.detail ?? problem.title;
  return typeof english === "string" ? english : undefined;
}

/** One field error in words (without the field's name: it is shown beside the field). */
export function fieldText(error: FieldProblem): string {
  const known = error.code === undefined ? undefined : translated(`field.${error.code}`, error.params ?? {});
  return known ?? error.message;
}

/** A socket refusal (docs/realtime.md error codes) in words. */
export function socketText(code: string, message: string): string {
  return translated(`socket.${code}`, {}) ?? message;
}
