// The doctor's availability editor: edit, preview the slots it gives, then save.
import { useEffect, useRef, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert, ErrorView, Loading } from "../../components/Status";
import { api, ApiError } from "../../lib/api";
import { myDoctorProfile } from "../../lib/doctors";
import { errorMessage } from "../../lib/errors";
import { fieldText } from "../../lib/problemText";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { getAvailability } from "../../lib/scheduling";
import { common } from "../../lib/strings";
import { dayKey, formatDay, formatTime } from "../../lib/time";
import type { Availability, Slot, SlotsPage } from "../../lib/types";
import { bodyOf, draftOf, placeOf, rowId, type Draft } from "./model";
import { ExceptionsSection, ReasonsSection, RulesSection, SettingsSection } from "./Sections";
import { strings } from "./strings";
import "./availability.css";

export default function AvailabilityPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const loaded = useAsync(async (signal) => {
    const doctor = await myDoctorProfile();
    return { availability: await getAvailability(doctor.id, signal), currency: doctor.currency };
  }, []);
  if (loaded.loading) return <Loading />;
  if (loaded.error instanceof ApiError && loaded.error.status === 404) return <Alert tone="info">{t("noProfile")}</Alert>;
  if (!loaded.data) return <ErrorView error={loaded.error} onRetry={loaded.reload} />;
  return <Editor availability={loaded.data.availability} currency={loaded.data.currency} />;
}

function Editor({ availability, currency }: { availability: Availability; currency: string }) {
  const t = useT(strings);
  const [draft, setDraft] = useState<Draft>(() => draftOf(availability));
  const [preview, setPreview] = useState<SlotsPage | null>(null);
  const [saved, setSaved] = useState(false);
  const path = `/doctors/${availability.doctor_id}/availability`;
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setSaved(false);
  };
  useEffect(() => setPreview(null), [draft]);
  const previewing = useAction(async () => setPreview(await api<SlotsPage>(`${path}/preview`, { method: "POST", body: { availability: bodyOf(draft) } })));
  const saving = useAction(async () => {
    const stored = await api<Availability>(path, { method: "PUT", body: bodyOf(draft) });
    setDraft(draftOf(stored));
    setSaved(true);
  });
  const error = saving.error ?? previewing.error;
  const problems = error instanceof ApiError ? (error.problem.errors ?? []) : [];

  return (
    <section class="page availability" aria-labelledby="availability-title">
      <h1 id="availability-title">{t("title")}</h1>
      <p class="hint">{t("intro")}</p>
      <form
        class="editor"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run();
        }}
      >
        {error !== undefined && <Problems error={error} />}
        <RulesSection rules={draft.rules} problems={problems} onChange={set("rules")} />
        <ExceptionsSection exceptions={draft.exceptions} problems={problems} onChange={set("exceptions")} />
        <ReasonsSection reasons={draft.reasons} currency={currency} problems={problems} onChange={set("reasons")} />
        <SettingsSection settings={draft.settings} problems={problems} onChange={set("settings")} />
        <div aria-live="polite">{saved && <Alert tone="success">{t("saved")}</Alert>}</div>
        <div class="actions sticky-actions">
          <Button variant="secondary" busy={previewing.busy} busyLabel={t("previewing")} onClick={() => void previewing.run()}>
            {t("preview")}
          </Button>
          <Button type="submit" busy={saving.busy} busyLabel={t("saving")}>
            {t("save")}
          </Button>
        </div>
      </form>
      {preview && <Preview page={preview} />}
    </section>
  );
}

/** The summary above the form: each error named by its place in words ("Weekly opening hours,
 * row 12, To"), linking to its row, where the error is shown again beside its field. Focused when
 * it appears, so keyboard and screen-reader users start from it. */
function Problems({ error }: { error: unknown }) {
  const t = useT(strings);
  const tc = useT(common);
  const summary = useRef<HTMLDivElement>(null);
  useEffect(() => summary.current?.focus(), [error]);
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  if (fields.length === 0) return <Alert>{errorMessage(error, tc)}</Alert>;
  return (
    <div class="error-summary" tabIndex={-1} ref={summary} aria-labelledby="availability-problems">
      <Alert>
        <p id="availability-problems">{t("invalid")}</p>
        <ul>
          {fields.map((f) => {
            const place = placeOf(f.field);
            const where = [
              place.section && t(place.section),
              place.row !== null && t("row", { row: place.row }),
              place.field && t(place.field),
            ].filter(Boolean);
            const target = place.section && rowId(place.section, place.row === null ? null : place.row - 1);
            const text = t("problemAt", { where: where.length > 0 ? where.join(", ") : t("form"), problem: fieldText(f) });
            return <li key={`${f.field}:${f.code ?? f.message}`}>{target ? <a href={`#${target}`}>{text}</a> : text}</li>;
          })}
        </ul>
      </Alert>
    </div>
  );
}

function Preview({ page }: { page: SlotsPage }) {
  const t = useT(strings);
  const byDay = new Map<string, Slot[]>();
  page.slots.forEach((s) => byDay.set(dayKey(s.start), [...(byDay.get(dayKey(s.start)) ?? []), s]));
  return (
    <section class="card" aria-labelledby="preview-title">
      <h2 id="preview-title">{t("previewTitle", { count: page.slots.length })}</h2>
      {page.slots.length === 0 && <p class="empty">{t("previewEmpty")}</p>}
      <dl class="preview">
        {[...byDay.entries()].map(([key, slots]) => (
          <div key={key}>
            <dt>{formatDay(slots[0]?.start ?? key)}</dt>
            <dd>{slots.map((s) => formatTime(s.start)).join(" · ")}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
