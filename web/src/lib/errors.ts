// Turn any failure into one plain sentence for the person in front of the screen, in their
// language (problem codes: ./problemText.ts).
import { ApiError, NetworkError } from "./api";
import type { Translate } from "./i18n";
import { fieldText, problemText, socketText } from "./problemText";
import { SocketRefusal } from "./socket";

type CommonKeys = "networkError" | "serverError" | "forbidden";

export function errorMessage(error: unknown, t: Translate<CommonKeys>): string {
  if (error instanceof NetworkError) return t("networkError");
  if (error instanceof SocketRefusal) return error.code === "internal" ? t("serverError") : socketText(error.code, error.message);
  if (error instanceof ApiError) {
    // A 503 says what is down (the payment provider, the audit trail) and that nothing changed.
    if (error.status >= 500 && error.status !== 503) return t("serverError");
    // A refusal about one field (a booking "in the past") says most by that field's words.
    const fields = error.problem.errors ?? [];
    if (fields.length === 1 && fields[0]) return fieldText(fields[0]);
    return problemText(error.problem) ?? (error.status === 403 ? t("forbidden") : t("serverError"));
  }
  return t("serverError");
}

export function isProblem(error: unknown, type: string): error is ApiError {
  return error instanceof ApiError && error.problem.type === type;
}
