// Admin: browse the audit trail (filters, keyset pages) and verify its hash chain. Both need a
// step-up: the trail tells who read which patient's health data.
import { useState } from "preact/hooks";
import { AdminFrame, StepUpPrompt } from "../../components/AdminFrame";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { type AuditEntry, type ChainVerification, STEP_UP_REQUIRED, auditTrail, verifyChain } from "../../lib/admin";
import type { Query } from "../../lib/api";
import { errorMessage, isProblem } from "../../lib/errors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { addDays, formatDateTime } from "../../lib/time";
import { strings } from "./strings";

const FIELDS = ["user_id", "resource_type", "resource_id", "action"] as const;
const LABELS = { user_id: "user", resource_type: "resourceType", resource_id: "resourceId", action: "action" } as const;

// A picked day, as the instant its local midnight starts (`days` later for an exclusive end).
const dayStart = (day: string, days = 0): string | undefined =>
  day ? addDays(new Date(`${day}T00:00:00`), days).toISOString() : undefined;

export default function AuditPage() {
  const t = useT(strings);
  const tc = useT(common);
  useDocumentTitle(t("title"));
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [filters, setFilters] = useState<Query>({});
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [report, setReport] = useState<ChainVerification | null>(null);
  const page = useAsync(async (signal) => {
    const first = await auditTrail(filters);
    if (!signal.aborted) {
      setOlder([]);
      setCursor(first.next_cursor);
    }
    return first;
  }, [filters]);
  const more = useAction(async () => {
    if (!cursor) return;
    const next = await auditTrail({ ...filters, cursor });
    setOlder((o) => [...o, ...next.items]);
    setCursor(next.next_cursor);
  });
  const verify = useAction(async () => setReport(await verifyChain()));
  const needStepUp = [page.error, verify.error, more.error].some((e) => isProblem(e, STEP_UP_REQUIRED));
  if (needStepUp)
    return (
      <AdminFrame title={t("title")}>
        <StepUpPrompt onDone={() => (verify.reset(), more.reset(), page.reload())} />
      </AdminFrame>
    );
  const entries = [...(page.data?.items ?? []), ...older];
  return (
    <AdminFrame title={t("title")}>
      <form
        class="card admin-filters"
        aria-label={t("filters")}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft, from: dayStart(draft.from ?? ""), to: dayStart(draft.to ?? "", 1) });
        }}
      >
        {FIELDS.map((field) => (
          <TextField key={field} label={t(LABELS[field])} value={draft[field] ?? ""} onValue={(v) => setDraft({ ...draft, [field]: v.trim() })} />
        ))}
        <TextField label={t("from")} type="date" value={draft.from ?? ""} onValue={(v) => setDraft({ ...draft, from: v })} />
        <TextField label={t("to")} type="date" value={draft.to ?? ""} onValue={(v) => setDraft({ ...draft, to: v })} />
        <Button type="submit" variant="secondary">
          {t("apply")}
        </Button>
      </form>
      <div>
        <Button busy={verify.busy} busyLabel={t("verifying")} onClick={() => void verify.run()}>
          {t("verify")}
        </Button>
        {report && (
          <Alert tone={report.ok ? "success" : "error"}>
            <p>{report.summary}</p>
          </Alert>
        )}
        {verify.error !== undefined && <Alert>{errorMessage(verify.error, tc)}</Alert>}
      </div>
      {page.loading && !page.data && <Loading />}
      {page.error !== undefined && <ErrorView error={page.error} onRetry={page.reload} />}
      {page.data && entries.length === 0 && <Empty>{t("none")}</Empty>}
      {entries.length > 0 && (
        <div class="table-scroll" tabIndex={0} aria-label={t("title")}>
          <table class="admin-table">
            <thead>
              <tr>
                <th scope="col">{t("seq")}</th>
                <th scope="col">{t("when")}</th>
                <th scope="col">{t("who")}</th>
                <th scope="col">{t("what")}</th>
                <th scope="col">{t("resource")}</th>
                <th scope="col">{t("outcome")}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.append_id}>
                  <td>{entry.seq ?? <span class="muted">{t("unsealed")}</span>}</td>
                  <td>{formatDateTime(entry.occurred_at)}</td>
                  <td>
                    {entry.role ?? "—"} <code>{entry.user_id?.slice(0, 8) ?? ""}</code>
                  </td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>
                    {entry.resource_type ?? ""} <code>{entry.resource_id ?? ""}</code>
                  </td>
                  <td>{entry.response_status ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <Button variant="secondary" busy={more.busy} onClick={() => void more.run()}>
          {t("more")}
        </Button>
      )}
    </AdminFrame>
  );
}
