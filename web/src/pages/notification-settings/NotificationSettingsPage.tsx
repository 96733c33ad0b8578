// Message preferences (language, zone, mobile, channels) and, for doctors, the practice's
// reminders.
import { useEffect, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert, ErrorView, Loading } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { plural, useT } from "../../lib/i18n";
import {
  getPreferences,
  getReminderOffsets,
  saveReminderOffsets,
  savePreferences,
  type Preferences,
} from "../../lib/notifications";
import { user } from "../../lib/session";
import { common } from "../../lib/strings";
import { strings } from "./strings";

const ZONES: readonly string[] = Intl.supportedValuesOf("timeZone");
const OFFSET_CHOICES = [0, 60, 120, 180, 1440, 2880];

function PreferencesForm({ initial }: { initial: Preferences }) {
  const t = useT(strings);
  const tc = useT(common);
  const [prefs, setPrefs] = useState(initial);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    setPrefs(await savePreferences(prefs));
    setSaved(true);
  });
  const set = (patch: Partial<Preferences>) => setPrefs({ ...prefs, ...patch });
  // Each refused field says why beside itself (aria-invalid, aria-describedby).
  const fieldError = (name: keyof Preferences) =>
    save.error instanceof ApiError ? save.error.fieldError(name) : undefined;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      {save.error !== undefined && <Alert>{errorMessage(save.error, tc)}</Alert>}
      {saved && <Alert tone="success">{t("saved")}</Alert>}
      <SelectField
        label={t("language")}
        value={prefs.language}
        onValue={(v) => set({ language: v === "fr" ? "fr" : "en" })}
        error={fieldError("language")}
        options={[
          { value: "en", label: "English" },
          { value: "fr", label: "Français" },
        ]}
      />
      <SelectField
        label={t("zone")}
        value={prefs.time_zone ?? ""}
        onValue={(v) => set({ time_zone: v || null })}
        error={fieldError("time_zone")}
        options={[{ value: "", label: t("zoneDoctor") }, ...ZONES.map((z) => ({ value: z, label: z }))]}
      />
      <TextField
        label={t("phone")}
        hint={t("phoneHint")}
        name="phone"
        type="tel"
        autocomplete="tel"
        value={prefs.phone ?? ""}
        onValue={(v) => set({ phone: v || null })}
        error={fieldError("phone")}
      />
      <fieldset>
        <legend>{t("channels")}</legend>
        {(["email", "sms", "in_app"] as const).map((channel) => (
          <label key={channel} class="checkbox">
            <input type="checkbox" checked={prefs[channel]} onChange={(e) => set({ [channel]: e.currentTarget.checked })} />{" "}
            {t(channel === "in_app" ? "inApp" : channel)}
          </label>
        ))}
      </fieldset>
      <Button type="submit" busy={save.busy} busyLabel={tc("saving")}>
        {t("save")}
      </Button>
    </form>
  );
}

function offsetLabel(t: ReturnType<typeof useT<(typeof strings)["en"]>>, minutes: number): string {
  if (minutes === 0) return t("none");
  return minutes % 1440 === 0 ? plural(t, "days", minutes / 1440) : plural(t, "hours", minutes / 60);
}

function ReminderForm() {
  const t = useT(strings);
  const tc = useT(common);
  const current = useAsync((signal) => getReminderOffsets(signal), []);
  const [offsets, setOffsets] = useState<number[]>([0, 0]);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    const got = current.data?.offsets_minutes ?? [];
    if (current.data) setOffsets([got[0] ?? 0, got[1] ?? 0]);
  }, [current.data]);
  const save = useAction(async () => {
    setSaved(false);
    await saveReminderOffsets(offsets.filter((o) => o > 0));
    setSaved(true);
  });
  if (current.loading && !current.data) return <Loading />;
  if (current.error !== undefined) return <ErrorView error={current.error} onRetry={current.reload} />;
  return (
    <section aria-labelledby="reminders-title">
      <h2 id="reminders-title">{t("reminders")}</h2>
      <p class="hint">{t("remindersHint")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
      >
        {save.error !== undefined && <Alert>{errorMessage(save.error, tc)}</Alert>}
        {saved && <Alert tone="success">{t("saved")}</Alert>}
        {offsets.map((value, i) => (
          <SelectField
            key={i}
            label={t("reminder", { n: i + 1 })}
            value={String(value)}
            onValue={(v) => setOffsets(offsets.map((o, j) => (j === i ? Number(v) : o)))}
            options={OFFSET_CHOICES.map((o) => ({ value: String(o), label: offsetLabel(t, o) }))}
          />
        ))}
        <Button type="submit" busy={save.busy} busyLabel={tc("saving")}>
          {t("saveReminders")}
        </Button>
      </form>
    </section>
  );
}

export default function NotificationSettingsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const prefs = useAsync((signal) => getPreferences(signal), []);
  return (
    <section class="card narrow" aria-labelledby="notify-title">
      <h1 id="notify-title">{t("title")}</h1>
      <p>{t("intro")}</p>
      {prefs.data ? (
        <PreferencesForm initial={prefs.data} />
      ) : prefs.error !== undefined ? (
        <ErrorView error={prefs.error} onRetry={prefs.reload} />
      ) : (
        <Loading />
      )}
      {user.value?.role === "doctor" && <ReminderForm />}
    </section>
  );
}
