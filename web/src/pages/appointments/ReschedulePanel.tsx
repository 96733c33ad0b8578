// Move an appointment through the doctor's live grid; a lost race offers the nearest times.
import { useState } from "preact/hooks";
import { BookingProblem, slotLabel } from "../../components/BookingProblem";
import { Button } from "../../components/Button";
import { LiveSlotPicker } from "../../components/LiveSlotPicker";
import { newIdempotencyKey } from "../../lib/api";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { rescheduleAppointment } from "../../lib/scheduling";
import type { Appointment, Slot } from "../../lib/types";
import { strings } from "./strings";

interface Props {
  appointment: Appointment;
  onDone: (updated: Appointment) => void;
  onClose: () => void;
}

// The picker lists where this appointment can go (excludingAppointmentId): its own time counts
// as free and slots take its own length and reason, even one the doctor retired; no reason filter.
export function ReschedulePanel({ appointment, onDone, onClose }: Props) {
  const t = useT(strings);
  const [slot, setSlot] = useState<Slot | null>(null);
  // One Idempotency-Key per press, reused by the client's automatic retries of it.
  const move = useAction(async (to: Slot) =>
    onDone(await rescheduleAppointment(appointment.id, to.start, to.visit_type, newIdempotencyKey())),
  );
  return (
    <section class="panel" aria-label={t("moveTitle")}>
      <h3>{t("moveTitle")}</h3>
      <LiveSlotPicker
        doctorId={appointment.doctor_id}
        doctorZone={appointment.time_zone}
        visitType={appointment.visit_type}
        reasonId=""
        excludingAppointmentId={appointment.id}
        selected={slot}
        onPick={(picked) => {
          setSlot(picked);
          move.reset();
        }}
      />
      {slot && (
        <div class="confirm-move" role="group" aria-label={t("moveConfirm", { time: slotLabel(slot, appointment.time_zone) })}>
          <p class="label">{t("moveConfirm", { time: slotLabel(slot, appointment.time_zone) })}</p>
          <BookingProblem
            error={move.error}
            slot={slot}
            zone={appointment.time_zone}
            onPick={(alternative) => {
              setSlot(alternative);
              move.reset();
            }}
          />
          <Button busy={move.busy} busyLabel={t("moving")} onClick={() => void move.run(slot)}>
            {t("moveYes")}
          </Button>
        </div>
      )}
      <Button variant="link" onClick={onClose}>
        {t("closeMove")}
      </Button>
    </section>
  );
}
