// Cancel with the policy in view and one explicit confirmation: whether cancelling now is late,
// what it refunds, and the reason field required when the visit's policy asks why.
import { useState } from "preact/hooks";
import { BookingProblem } from "../../components/BookingProblem";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { newIdempotencyKey } from "../../lib/api";
import { useAction, useAsync } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";
import { formatMoney } from "../../lib/money";
import { fieldText } from "../../lib/problemText";
import { cancelAppointment } from "../../lib/scheduling";
import { formatDateTime } from "../../lib/time";
import type { Appointment } from "../../lib/types";
import { cancellationQuote } from "../../lib/waitlist";
import { strings } from "./strings";

const policyStrings = defineStrings({
  en: {
    onTime: "Cancelling now is free of charge (before {cutoff}).",
    late: "Cancelling now is late (after {cutoff}).",
    refund: "You get {refund} back of the {paid} paid.",
    noRefund: "Nothing of the {paid} paid is refunded.",
    reasonRequired: "Reason (required by this practice, shared with the doctor)",
  },
  fr: {
    onTime: "Annuler maintenant est gratuit (avant le {cutoff}).",
    late: "Annuler maintenant est tardif (après le {cutoff}).",
    refund: "Vous êtes remboursé de {refund} sur les {paid} payés.",
    noRefund: "Rien des {paid} payés n’est remboursé.",
    reasonRequired: "Motif (demandé par ce cabinet, transmis au médecin)",
  },
});

interface Props {
  appointment: Appointment;
  onDone: (updated: Appointment) => void;
  onClose: () => void;
}

export function CancelPanel({ appointment, onDone, onClose }: Props) {
  const t = useT(strings);
  const tp = useT(policyStrings);
  const [reason, setReason] = useState("");
  // A reason of spaces is no reason: refused on the field before anything is sent.
  const [blank, setBlank] = useState(false);
  const quote = useAsync((signal) => cancellationQuote(appointment.id, signal), [appointment.id]);
  const q = quote.data;
  // One Idempotency-Key per press, reused by the client's automatic retries of it.
  const cancel = useAction(async () =>
    onDone(await cancelAppointment(appointment.id, newIdempotencyKey(), reason.trim() || undefined)),
  );
  const reasonError = blank
    ? fieldText({ field: "reason", code: "cancel-reason-required", message: "A reason is required." })
    : undefined;
  return (
    <form
      class="panel"
      aria-label={t("cancelConfirm")}
      onSubmit={(e) => {
        e.preventDefault();
        if (q?.reason_required && !reason.trim()) {
          setBlank(true);
          e.currentTarget.querySelector<HTMLInputElement>('input[name="reason"]')?.focus();
          return;
        }
        void cancel.run();
      }}
    >
      <p class="label">{t("cancelConfirm")}</p>
      {q && (
        <Alert tone={q.late ? "warning" : "info"}>
          <span data-testid="cancel-policy" data-late={String(q.late)}>
            {tp(q.late ? "late" : "onTime", { cutoff: formatDateTime(q.refund_cutoff_at) })}
            {q.paid > 0 &&
              ` ${tp(q.refund > 0 ? "refund" : "noRefund", {
                refund: formatMoney(q.refund, q.currency),
                paid: formatMoney(q.paid, q.currency),
              })}`}
          </span>
        </Alert>
      )}
      <TextField
        label={q?.reason_required ? tp("reasonRequired") : t("cancelReason")}
        name="reason"
        value={reason}
        onValue={(value) => {
          setReason(value);
          setBlank(false);
        }}
        error={reasonError}
        maxLength={500}
        required={q?.reason_required ?? false}
      />
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
