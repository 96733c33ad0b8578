// Who waits in the video waiting room right now, with the way in to admit them (live over
// /agenda: teleconsultation.waiting).
import { useT } from "../../lib/i18n";
import type { Appointment, PatientProfile } from "../../lib/types";
import { strings } from "./strings";

interface Props {
  waiting: ReadonlySet<string>;
  items: readonly Appointment[];
  patients: ReadonlyMap<string, PatientProfile> | undefined;
}

export function WaitingRoom({ waiting, items, patients }: Props) {
  const t = useT(strings);
  const nameOf = (appointmentId: string): string => {
    const patient = patients?.get(items.find((a) => a.id === appointmentId)?.patient_id ?? "");
    return patient ? `${patient.first_name} ${patient.last_name}` : t("aPatient");
  };
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
