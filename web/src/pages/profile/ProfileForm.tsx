// The patient's own details (PUT /patients/{id}).
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { updatePatient } from "../../lib/patients";
import { common } from "../../lib/strings";
import type { PatientProfile } from "../../lib/types";
import { strings } from "./strings";

const GENDERS = ["", "female", "male", "other", "undisclosed"] as const;

export function ProfileForm({ profile }: { profile: PatientProfile }) {
  const t = useT(strings);
  const tc = useT(common);
  const [form, setForm] = useState({
    first_name: profile.first_name,
    last_name: profile.last_name,
    date_of_birth: profile.date_of_birth ?? "",
    gender: profile.gender ?? "",
    phone: profile.phone ?? "",
    line1: profile.address.line1 ?? "",
    postcode: profile.address.postcode ?? "",
    city: profile.address.city ?? "",
  });
  const [saved, setSaved] = useState(false);
  const set = (key: keyof typeof form) => (value: string) => {
    setForm({ ...form, [key]: value });
    setSaved(false);
  };
  const save = useAction(async () => {
    await updatePatient(profile.id, {
      first_name: form.first_name,
      last_name: form.last_name,
      date_of_birth: form.date_of_birth || null,
      gender: form.gender || null,
      phone: form.phone || null,
      address: { ...profile.address, line1: form.line1, postcode: form.postcode, city: form.city },
    });
    setSaved(true);
  });
  const error = save.error instanceof ApiError ? save.error : undefined;
  return (
    <form
      class="card"
      aria-labelledby="profile-title"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <h2 id="profile-title">{t("profile")}</h2>
      <TextField label={t("firstName")} autocomplete="given-name" value={form.first_name} onValue={set("first_name")} error={error?.fieldError("first_name")} required />
      <TextField label={t("lastName")} autocomplete="family-name" value={form.last_name} onValue={set("last_name")} error={error?.fieldError("last_name")} required />
      <TextField label={t("birth")} type="date" autocomplete="bday" value={form.date_of_birth} onValue={set("date_of_birth")} error={error?.fieldError("date_of_birth")} />
      <SelectField label={t("gender")} value={form.gender} onValue={set("gender")} options={GENDERS.map((g) => ({ value: g, label: t(`gender_${g}`) }))} />
      <TextField label={t("phone")} type="tel" autocomplete="tel" hint={t("phoneHint")} value={form.phone} onValue={set("phone")} error={error?.fieldError("phone")} />
      <TextField label={t("line1")} autocomplete="street-address" value={form.line1} onValue={set("line1")} />
      <TextField label={t("postcode")} autocomplete="postal-code" value={form.postcode} onValue={set("postcode")} />
      <TextField label={t("city")} autocomplete="address-level2" value={form.city} onValue={set("city")} />
      <div aria-live="polite">
        {save.error !== undefined && !error?.problem.errors?.length && <Alert>{errorMessage(save.error, tc)}</Alert>}
        {saved && <Alert tone="success">{t("saved")}</Alert>}
      </div>
      <Button type="submit" busy={save.busy} busyLabel={t("saving")}>
        {t("save")}
      </Button>
    </form>
  );
}
