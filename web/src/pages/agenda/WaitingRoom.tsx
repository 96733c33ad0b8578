// Who waits in the video waiting room right now, with the way in to admit them (live over
// /agenda: teleconsultation.waiting).
import { useT } from "../../lib/i18n";
import type { Appointment } from "../../lib/types";
import { strings } from "./strings";

/** The patient's name as the agenda answer carries it (null only if the server sent none). */
export function patientName(appointment: Appointment | undefined): string | null {
  const patient = appointment?.patient;
  return patient ? `${patient.first_name} ${patient.last_name}` : null;
}

interface Props {
  waiting: ReadonlySet<string>;
  items: readonly Appointment[];
}

export function WaitingRoom({ waiting, items }: Props) {
  const t = useT(strings);
  const nameOf = (appointmentId: string): string =>
    patientName(items.find((a) => a.id === appointmentId)) ?? t("aPatient");
  // Always rendered, so screen readers hear arrivals in this live region.
  return (
    <section class="waiting-room" aria-live="polite" aria-label={t("waitingRoom")}>
      {[...waiting].map((id) => (
        <p key={id} class="alert alert-warning waiting-entry">
          <span>{t("isWaiting", { name: nameOf(id) })}</span>{" "}
          <a class="btn btn-primary" href={`/consult/${id}`}>
            {t("openRoom")}
          </a>
        </p>
      ))}
    </section>
  );
}
