// The doctor's waitlist and running-late controls: how many wait for an earlier slot, the
// practice's late cancellations and no-shows, "running N min late" for today (patients see it on their appointment and in the waiting room),
// and the practice's settings: how long a waitlist offer is held, and prepayment above a no-show threshold.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert, ErrorView } from "../../components/Status";
import { api } from "../../lib/api";
import { useAction, useAsync } from "../../lib/hooks";
import { defineStrings, plural, useT } from "../../lib/i18n";
import { declareRunningLate, practiceSettings, savePracticeSettings } from "../../lib/waitlist";

const strings = defineStrings({
  en: {
    title: "Today",
    waiting: "Patients on your waitlist: {count}",
    reliability: "Late cancellations: {late} · No-shows: {missed}",
    late: "Running late (minutes)",
    lateHint: "0 when on time. Your patients of the day see their expected start.",
    save: "Tell my patients",
    saved: "Your patients now see a {minutes} min delay.",
    perPatient: "Per patient",
    patientFigures: "{name}: {late}, {missed}",
    lateCount_one: "{count} late cancellation",
    lateCount_other: "{count} late cancellations",
    missedCount_one: "{count} no-show",
    missedCount_other: "{count} no-shows",
    settingsTitle: "Waitlist and no-shows",
    offerMinutes: "Offer held for (minutes)",
    offerHint: "How long a freed slot stays held for the patient offered it: 2 to 60.",
    threshold: "Payment at booking from (no-shows)",
    thresholdHint: "Patients with at least this many missed visits pay when booking. Empty: never.",
    saveSettings: "Save settings",
    settingsSaved: "Settings saved.",
  },
  fr: {
    title: "Aujourd’hui",
    waiting: "Patients sur votre liste d’attente : {count}",
    reliability: "Annulations tardives : {late} · Absences : {missed}",
    late: "Retard (minutes)",
    lateHint: "0 si vous êtes à l’heure. Vos patients du jour voient leur heure de début prévue.",
    save: "Prévenir mes patients",
    saved: "Vos patients voient maintenant un retard de {minutes} min.",
    perPatient: "Par patient",
    patientFigures: "{name} : {late}, {missed}",
    lateCount_one: "{count} annulation tardive",
    lateCount_other: "{count} annulations tardives",
    missedCount_one: "{count} absence",
    missedCount_other: "{count} absences",
    settingsTitle: "Liste d’attente et absences",
    offerMinutes: "Créneau proposé réservé pendant (minutes)",
    offerHint: "Durée pendant laquelle un créneau libéré reste réservé au patient à qui il est proposé : 2 à 60.",
    threshold: "Paiement à la réservation à partir de (absences)",
    thresholdHint: "Les patients ayant au moins ce nombre de rendez-vous manqués paient en réservant. Vide : jamais.",
    saveSettings: "Enregistrer",
    settingsSaved: "Réglages enregistrés.",
  },
});

export function DoctorControls({ doctorId }: { doctorId: string }) {
  const t = useT(strings);
  const [minutes, setMinutes] = useState("0");
  const [saved, setSaved] = useState<number | null>(null);
  const count = useAsync(
    (signal) => api<{ waiting: number }>(`/waitlist/doctors/${doctorId}/count`, { signal }),
    [doctorId],
  );
  const figures = useAsync(
    (signal) =>
      api<{
        late_cancellations: number;
        no_shows: number;
        patients: { patient_id: string; name: string; late_cancellations: number; no_shows: number }[];
      }>(`/waitlist/doctors/${doctorId}/reliability`, {
        signal,
      }),
    [doctorId],
  );
  const save = useAction(async () => {
    const said = await declareRunningLate(doctorId, Number(minutes));
    setSaved(said.minutes);
  });
  return (
    <section class="card" aria-labelledby="controls-title">
      <h2 id="controls-title">{t("title")}</h2>
      {count.data && <p>{t("waiting", { count: count.data.waiting })}</p>}
      {figures.data && (
        <p>{t("reliability", { late: figures.data.late_cancellations, missed: figures.data.no_shows })}</p>
      )}
      {figures.data && figures.data.patients.length > 0 && (
        <details>
          <summary>{t("perPatient")}</summary>
          <ul class="plain-list" data-testid="reliability-patients">
            {figures.data.patients.slice(0, 20).map((p) => (
              <li key={p.patient_id}>
                {t("patientFigures", {
                  name: p.name,
                  late: plural(t, "lateCount", p.late_cancellations),
                  missed: plural(t, "missedCount", p.no_shows),
                })}
              </li>
            ))}
          </ul>
        </details>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save.run();
        }}
      >
        <TextField
          label={t("late")}
          hint={t("lateHint")}
          type="number"
          min={0}
          max={480}
          name="running_late"
          value={minutes}
          onValue={setMinutes}
        />
        {save.error !== undefined && <ErrorView error={save.error} />}
        {saved !== null && <Alert tone="success">{t("saved", { minutes: saved })}</Alert>}
        <Button type="submit" busy={save.busy}>
          {t("save")}
        </Button>
      </form>
      <PracticeSettingsForm doctorId={doctorId} />
    </section>
  );
}

function PracticeSettingsForm({ doctorId }: { doctorId: string }) {
  const t = useT(strings);
  const current = useAsync((signal) => practiceSettings(doctorId, signal), [doctorId]);
  const [offer, setOffer] = useState<string | null>(null);
  const [threshold, setThreshold] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const offerValue = offer ?? String(current.data?.offer_minutes ?? 10);
  const thresholdValue = threshold ?? String(current.data?.prepay_no_show_threshold ?? "");
  const save = useAction(async () => {
    await savePracticeSettings(doctorId, {
      offer_minutes: Number(offerValue),
      prepay_no_show_threshold: thresholdValue.trim() ? Number(thresholdValue) : null,
    });
    setDone(true);
  });
  return (
    <form
      aria-labelledby="practice-settings-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h3 id="practice-settings-title">{t("settingsTitle")}</h3>
      <TextField
        label={t("offerMinutes")}
        hint={t("offerHint")}
        type="number"
        min={2}
        max={60}
        name="offer_minutes"
        value={offerValue}
        onValue={(v) => {
          setOffer(v);
          setDone(false);
        }}
      />
      <TextField
        label={t("threshold")}
        hint={t("thresholdHint")}
        type="number"
        min={1}
        max={100}
        name="prepay_no_show_threshold"
        value={thresholdValue}
        onValue={(v) => {
          setThreshold(v);
          setDone(false);
        }}
      />
      {save.error !== undefined && <ErrorView error={save.error} />}
      {done && <Alert tone="success">{t("settingsSaved")}</Alert>}
      <Button type="submit" busy={save.busy}>
        {t("saveSettings")}
      </Button>
    </form>
  );
}
