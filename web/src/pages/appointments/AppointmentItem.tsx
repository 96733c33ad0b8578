// One appointment with what can be done to it now: join the video, move, cancel.
import { useState } from "preact/hooks";
import { slotLabel } from "../../components/BookingProblem";
import { Button } from "../../components/Button";
import { QueueBanner } from "../../components/QueueBanner";
import { PaymentSummary } from "../../components/PaymentList";
import { StatusBadge } from "../../components/StatusBadge";
import { doctorName } from "../../lib/doctors";
import { useT } from "../../lib/i18n";
import { isActive, videoOpensMinutesBefore, videoWindowOpen } from "../../lib/scheduling";
import { common } from "../../lib/strings";
import { formatDateTime } from "../../lib/time";
import type { Payment } from "../../lib/payments";
import type { Appointment, Doctor } from "../../lib/types";
import { CancelPanel } from "./CancelPanel";
import { ReschedulePanel } from "./ReschedulePanel";
import { strings } from "./strings";

type Mode = "idle" | "cancel" | "move";

const startsToday = (iso: string): boolean => new Date(iso).toDateString() === new Date().toDateString();

interface Props {
  appointment: Appointment;
  doctor: Doctor | undefined;
  payment?: Payment | undefined;
  /** A relative's appointment (the caller books for them): the relative's name. */
  forName?: string | undefined;
  /** The appointment changed; `notice` says so in words (it may move to the other tab). */
  onChange: (updated: Appointment, notice: string) => void;
}

export function AppointmentItem({ appointment, doctor, payment, forName, onChange }: Props) {
  const t = useT(strings);
  const tc = useT(common);
  const [mode, setMode] = useState<Mode>("idle");
  const can = (action: string) => appointment.allowed_transitions.includes(action);
  const upcoming = Date.parse(appointment.end) > Date.now();
  const opensBefore = videoOpensMinutesBefore(appointment);
  const done = (message: string) => (updated: Appointment) => {
    setMode("idle");
    onChange(updated, message.replace("{time}", slotLabel(updated, updated.time_zone)));
  };

  return (
    <li class="card appointment">
      <div class="appointment-head">
        <h3>
          {doctor ? <a href={`/doctors/${doctor.id}`}>{doctorName(doctor)}</a> : "…"}
        </h3>
        <StatusBadge status={appointment.status} />
      </div>
      {forName && <p class="for-relative">{t("forRelative", { name: forName })}</p>}
      <p>
        <strong>{slotLabel(appointment, appointment.time_zone)}</strong> ·{" "}
        {appointment.visit_type === "teleconsultation" ? tc("teleconsultation") : tc("inPerson")}
      </p>
      {appointment.reason_name && <p class="muted">{t("reason", { reason: appointment.reason_name })}</p>}
      {payment && (
        <p>
          <PaymentSummary payment={payment} />
        </p>
      )}
      {/* A held slot (checkout under way) has no place in the queue yet: the server says 404. */}
      {upcoming && (appointment.status === "scheduled" || appointment.status === "confirmed") && startsToday(appointment.start) && (
        <QueueBanner appointmentId={appointment.id} />
      )}
      {videoWindowOpen(appointment) ? (
        <a class="btn btn-primary" href={`/consult/${appointment.id}`}>
          {t("join")}
        </a>
      ) : (
        upcoming &&
        opensBefore !== null &&
        isActive(appointment) && <p class="hint">{t("joinLater", { minutes: opensBefore })}</p>
      )}
      {upcoming && mode === "idle" && (can("cancel") || can("reschedule")) && (
        <div class="actions">
          {can("reschedule") && (
            <Button variant="secondary" onClick={() => setMode("move")}>
              {t("reschedule")}
            </Button>
          )}
          {can("cancel") && (
            <Button variant="danger" onClick={() => setMode("cancel")}>
              {t("cancel")}
            </Button>
          )}
        </div>
      )}
      {upcoming && appointment.patient_cutoff_at && Object.values(appointment.refused_transitions).includes("cutoff") && (
        <p class="hint too-late-hint">{t("tooLate", { time: formatDateTime(appointment.patient_cutoff_at) })}</p>
      )}
      {mode === "cancel" && <CancelPanel appointment={appointment} onDone={done(t("cancelled"))} onClose={() => setMode("idle")} />}
      {mode === "move" && <ReschedulePanel appointment={appointment} onDone={done(t("moved"))} onClose={() => setMode("idle")} />}
    </li>
  );
}
