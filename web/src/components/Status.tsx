// Loading, error and empty states: the three answers a page gives while data is not there.
import type { ComponentChildren } from "preact";
import { common } from "../lib/strings";
import { useT } from "../lib/i18n";
import { errorMessage } from "../lib/errors";
import { Spinner } from "./Spinner";

export function Loading({ label }: { label?: string }) {
  const t = useT(common);
  return (
    <p class="loading" role="status">
      <Spinner /> {label ?? t("loading")}
    </p>
  );
}

export function Alert({
  tone = "error",
  children,
}: {
  tone?: "error" | "info" | "success" | "warning";
  children: ComponentChildren;
}) {
  // Errors interrupt (role=alert); everything else is announced politely.
  return (
    <div class={`alert alert-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT(common);
  return (
    <Alert>
      <p>{errorMessage(error, t)}</p>
      {onRetry && (
        <button type="button" class="btn btn-secondary" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </Alert>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
