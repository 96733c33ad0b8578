// Add or edit a relative: who they are, what they are to me, the consent on record.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { addRelative, type ConsentBasis, RELATIONSHIPS, type Relationship, type Relative, updateRelative } from "../../lib/relatives";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export function RelativeForm({ relative, onDone, onCancel }: { relative?: Relative; onDone: (r: Relative) => void; onCancel?: () => void }) {
  const t = useT(strings);
  const tc = useT(common);
  const [form, setForm] = useState({
    first_name: relative?.first_name ?? "",
    last_name: relative?.last_name ?? "",
    date_of_birth: relative?.date_of_birth ?? "",
    relationship: (relative?.relationship ?? "CHILD") as Relationship,
    consent_basis: (relative?.consent.basis ?? "legal_guardian") as ConsentBasis,
    consent_given: false,
    can_view_history: relative?.can_view_history ?? false,
  });
  const set = <K extends keyof typeof form>(key: K) => (value: (typeof form)[K]) => setForm({ ...form, [key]: value });
  const save = useAction(async () => {
    const body = { ...form, date_of_birth: form.date_of_birth || null };
    if (!relative) return onDone(await addRelative(body));
    const changes: Partial<typeof body> = { ...body };
    // The consent is re-recorded only when its basis changes (then it must be confirmed again).
    if (form.consent_basis === relative.consent.basis) {
      delete changes.consent_basis;
      delete changes.consent_given;
    }
    return onDone(await updateRelative(relative.id, changes));
  });
  const error = save.error instanceof ApiError ? save.error : undefined;
  const needsConsent = !relative || form.consent_basis !== relative.consent.basis;
  const titleId = relative ? `relative-edit-${relative.id}` : "relative-add";
  return (
    <form
      class="card relative-form"
      aria-labelledby={titleId}
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <h2 id={titleId}>{relative ? t("edit", { name: relative.first_name }) : t("add")}</h2>
      <TextField label={t("firstName")} value={form.first_name} onValue={set("first_name")} error={error?.fieldError("first_name")} required />
      <TextField label={t("lastName")} value={form.last_name} onValue={set("last_name")} error={error?.fieldError("last_name")} required />
      <TextField label={t("birth")} type="date" value={form.date_of_birth} onValue={set("date_of_birth")} error={error?.fieldError("date_of_birth")} />
      <SelectField
        label={t("relationship")}
        value={form.relationship}
        onValue={(v) => set("relationship")(v as Relationship)}
        error={error?.fieldError("relationship")}
        options={RELATIONSHIPS.map((r) => ({ value: r, label: t(`rel_${r}`) }))}
      />
      <fieldset>
        <legend>{t("basis")}</legend>
        {(["legal_guardian", "self"] as const).map((basis) => (
          <label key={basis} class="checkbox">
            <input type="radio" name={`${titleId}-basis`} value={basis} checked={form.consent_basis === basis} onChange={() => set("consent_basis")(basis)} />{" "}
            {t(`basis_${basis}`)}
          </label>
        ))}
      </fieldset>
      {needsConsent && (
        <label class="checkbox">
          <input type="checkbox" checked={form.consent_given} required onChange={(e) => set("consent_given")(e.currentTarget.checked)} /> {t("consent")}
        </label>
      )}
      <label class="checkbox">
        <input type="checkbox" checked={form.can_view_history} onChange={(e) => set("can_view_history")(e.currentTarget.checked)} /> {t("history")}
      </label>
      <div aria-live="polite">{save.error !== undefined && <Alert>{errorMessage(save.error, tc)}</Alert>}</div>
      <div class="actions">
        <Button type="submit" busy={save.busy} busyLabel={t("saving")}>
          {t("save")}
        </Button>
        {onCancel && (
          <Button variant="secondary" onClick={onCancel}>
            {t("cancel")}
          </Button>
        )}
      </div>
    </form>
  );
}
