// The doctor's waitlist and running-late controls: how many wait for an earlier slot, the
// practice's late cancellations and no-shows, and "running N min late" for today (patients see it on their appointment and in the waiting room).
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert, ErrorView } from "../../components/Status";
import { api } from "../../lib/api";
import { useAction, useAsync } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";
import { declareRunningLate } from "../../lib/waitlist";

const strings = defineStrings({
  en: {
    title: "Today",
    waiting: "Patients on your waitlist: {count}",
    reliability: "Late cancellations: {late} · No-shows: {missed}",
    late: "Running late (minutes)",
    lateHint: "0 when on time. Your patients of the day see their expected start.",
    save: "Tell my patients",
    saved: "Your patients now see a {minutes} min delay.",
  },
  fr: {
    title: "Aujourd’hui",
    waiting: "Patients sur votre liste d’attente : {count}",
    reliability: "Annulations tardives : {late} · Absences : {missed}",
    late: "Retard (minutes)",
    lateHint: "0 si vous êtes à l’heure. Vos patients du jour voient leur heure de début prévue.",
    save: "Prévenir mes patients",
    saved: "Vos patients voient maintenant un retard de {minutes} min.",
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
      api<{ late_cancellations: number; no_shows: number }>(`/waitlist/doctors/${doctorId}/reliability`, {
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
    </section>
  );
}
