// Who waits in the video waiting room right now, with the way in to admit them (live over
// /agenda: teleconsultation.waiting).
import { useT } from "../../lib/i18n";
import type { AgendaPatient, Appointment } from "../../lib/types";
import type { Waiting } from "./useAgenda";
import { strings } from "./strings";

/** The patient's name as the agenda answer carries it (null only if the server sent none). */
export function patientName(appointment: Appointment | undefined): string | null {
  return nameOf(appointment?.patient);
}

function nameOf(patient: AgendaPatient | null | undefined): string | null {
  return patient ? `${patient.first_name} ${patient.last_name}` : null;
}

interface Props {
  waiting: Waiting;
  items: readonly Appointment[];
}

export function WaitingRoom({ waiting, items }: Props) {
  const t = useT(strings);
  // The news names the patient; the agenda's rows are the fallback.
  const waitingName = (appointmentId: string, patient: AgendaPatient | null): string =>
    nameOf(patient) ?? patientName(items.find((a) => a.id === appointmentId)) ?? t("aPatient");
  // Always rendered, so screen readers hear arrivals in this live region.
  return (
    <section class="waiting-room" aria-live="polite" aria-label={t("waitingRoom")}>
      {[...waiting].map(([id, patient]) => (
        <p key={id} class="alert alert-warning waiting-entry">
          <span>{t("isWaiting", { name: waitingName(id, patient) })}</span>{" "}
          <a class="btn btn-primary" href={`/consult/${id}`}>
            {t("openRoom")}
          </a>
        </p>
      ))}
    </section>
  );
}
