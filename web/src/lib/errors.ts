// Turn any failure into one plain sentence for the person in front of the screen.
import { ApiError, NetworkError } from "./api";
import type { Translate } from "./i18n";

type CommonKeys = "networkError" | "serverError" | "forbidden";

export function errorMessage(error: unknown, t: Translate<CommonKeys>): string {
  if (error instanceof NetworkError) return t("networkError");
  if (error instanceof ApiError) {
    if (error.status >= 500) return t("serverError");
    if (error.status === 403) return t("forbidden");
    return error.problem.detail ?? error.problem.title ?? t("serverError");
  }
  return t("serverError");
}

export function isProblem(error: unknown, type: string): error is ApiError {
  return error instanceof ApiError && error.problem.type === type;
}
