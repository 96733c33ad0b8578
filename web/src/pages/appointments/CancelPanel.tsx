// Cancel with the policy in view and one explicit confirmation.
import { useState } from "preact/hooks";
import { BookingProblem } from "../../components/BookingProblem";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { newIdempotencyKey } from "../../lib/api";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { cancelAppointment } from "../../lib/scheduling";
import type { Appointment } from "../../lib/types";
import { strings } from "./strings";

interface Props {
  appointment: Appointment;
  onDone: (updated: Appointment) => void;
  onClose: () => void;
}

export function CancelPanel({ appointment, onDone, onClose }: Props) {
  const t = useT(strings);
  const [reason, setReason] = useState("");
  // One Idempotency-Key per press, reused by the client's automatic retries of it.
  const cancel = useAction(async () =>
    onDone(await cancelAppointment(appointment.id, newIdempotencyKey(), reason.trim() || undefined)),
  );
  return (
    <form
      class="panel"
      aria-label={t("cancelConfirm")}
      onSubmit={(e) => {
        e.preventDefault();
        void cancel.run();
      }}
    >
      <p class="label">{t("cancelConfirm")}</p>
      <TextField label={t("cancelReason")} name="reason" value={reason} onValue={setReason} maxLength={500} />
      <BookingProblem error={cancel.error} slot={appointment} zone={appointment.time_zone} onPick={() => undefined} />
      <div class="actions">
        <Button type="submit" variant="danger" busy={cancel.busy} busyLabel={t("cancelling")}>
          {t("cancelYes")}
        </Button>
        <Button variant="secondary" onClick={onClose}>
          {t("keep")}
        </Button>
      </div>
    </form>
  );
}
