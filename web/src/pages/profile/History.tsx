// The patient's medical history: read it, add to it.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { addMedicalEntry, medicalHistory } from "../../lib/patients";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import { strings } from "./strings";

export function History({ patientId }: { patientId: string }) {
  const t = useT(strings);
  const tc = useT(common);
  const history = useAsync(() => medicalHistory(patientId), [patientId]);
  const [condition, setCondition] = useState("");
  const [since, setSince] = useState("");
  const [notes, setNotes] = useState("");
  const add = useAction(async () => {
    await addMedicalEntry(patientId, {
      condition: condition.trim(),
      ...(since ? { diagnosis_date: since } : {}),
      ...(notes.trim() ? { notes: notes.trim() } : {}),
    });
    setCondition("");
    setSince("");
    setNotes("");
    history.reload();
  });
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">{t("history")}</h2>
      <p class="hint">{t("historyHint")}</p>
      {history.loading && !history.data && <Loading />}
      {history.error !== undefined && <ErrorView error={history.error} onRetry={history.reload} />}
      {history.data && history.data.items.length === 0 && <Empty>{t("none")}</Empty>}
      <ul class="plain-list">
        {history.data?.items.map((entry) => (
          <li key={entry.id}>
            <strong>{entry.condition}</strong>
            {entry.diagnosis_date && <span class="muted"> · {t("since", { date: formatLongDate(`${entry.diagnosis_date}T12:00:00`) })}</span>}
            {entry.notes && <p>{entry.notes}</p>}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <TextField label={t("condition")} value={condition} onValue={setCondition} maxLength={200} required />
        <TextField label={t("diagnosed")} type="date" value={since} onValue={setSince} />
        <TextField label={t("notes")} value={notes} onValue={setNotes} maxLength={2000} />
        {add.error !== undefined && <Alert>{errorMessage(add.error, tc)}</Alert>}
        <Button type="submit" variant="secondary" busy={add.busy} busyLabel={t("adding")}>
          {t("add")}
        </Button>
      </form>
    </section>
  );
}
