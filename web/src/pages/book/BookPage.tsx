// Confirm a chosen slot; if someone took it meanwhile, say so and offer the nearest free ones.
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { BookingProblem, slotLabel } from "../../components/BookingProblem";
import { Alert, ErrorView, Loading } from "../../components/Status";
import { doctorName, getDoctor } from "../../lib/doctors";
import { newIdempotencyKey } from "../../lib/api";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { formatMoney } from "../../lib/money";
import { availableSlots, book, getAvailability } from "../../lib/scheduling";
import { common } from "../../lib/strings";
import { useSessionDraft } from "../../lib/drafts";
import { downloadInvoice, type Payment } from "../../lib/payments";
import type { Appointment, Doctor, Slot } from "../../lib/types";
import { myRelatives } from "../../lib/relatives";
import { SelectField } from "../../components/Field";
import { Checkout } from "./Checkout";
import { PolicyNote } from "./PolicyNote";
import { strings } from "./strings";
import { choiceFromQuery, type BookingChoice } from "./url";
import "./book.css";

export default function BookPage() {
  const t = useT(strings);
  const { query } = useLocation();
  useDocumentTitle(t("title"));
  const initial = choiceFromQuery(query);
  if (!initial) return <Alert>{t("invalid")}</Alert>;
  return <Confirm initial={initial} />;
}

function Confirm({ initial }: { initial: BookingChoice }) {
  const t = useT(strings);
  const tc = useT(common);
  const [slot, setSlot] = useState<Slot>(initial.slot);
  // The note survives a reload of this page (one draft per doctor and slot, this tab only).
  const [notes, setNotes, clearNotes] = useSessionDraft(`booking-notes:${initial.doctorId}:${initial.slot.start}`);
  const [booked, setBooked] = useState<Appointment | null>(null);
  const [paid, setPaid] = useState<Payment | null>(null);
  const doctor = useAsync((signal) => getDoctor(initial.doctorId, signal), [initial.doctorId]);
  const reasons = useAsync((signal) => getAvailability(initial.doctorId, signal).then((a) => a.reasons, () => []), [
    initial.doctorId,
  ]);
  // The server's cut-off, read with the slot: a slot closer than it cannot be changed online.
  const cutoff = useAsync(
    (signal) =>
      availableSlots(
        { doctorId: initial.doctorId, from: new Date(slot.start), to: new Date(Date.parse(slot.start) + 60_000) },
        signal,
      ).then((page) => page.patient_cutoff_hours ?? null, () => null),
    [initial.doctorId, slot.start],
  );
  const insideCutoff =
    cutoff.data != null && Date.parse(slot.start) - Date.now() < cutoff.data * 3_600_000;
  const reason = reasons.data?.find((r) => r.id === initial.reasonId);
  // Family and proxy booking: the patient may book for a relative they manage.
  const relatives = useAsync(() => myRelatives().catch(() => []), []);
  const [patientId, setPatientId] = useState(new URLSearchParams(window.location.search).get("for") ?? "");
  const forWhom = relatives.data?.find((r) => r.id === patientId);
  // One Idempotency-Key per press: a retry of this press books once; a new press is a new action.
  const submit = useAction(async () => {
    const booking = {
      doctor_id: initial.doctorId,
      start: slot.start,
      visit_type: slot.visit_type,
      ...(initial.reasonId ? { reason_id: initial.reasonId } : {}),
      ...(notes.trim() ? { notes: notes.trim() } : {}),
      ...(forWhom ? { patient_id: forWhom.id } : {}),
    };
    const appointment = await book(booking, newIdempotencyKey());
    clearNotes();
    setBooked(appointment);
  });

  if (doctor.loading) return <Loading />;
  if (!doctor.data) return <ErrorView error={doctor.error} onRetry={doctor.reload} />;
  const d = doctor.data;
  // A paid slot is held while the patient pays; the checkout books it.
  if (booked?.status === "held" && !paid) return <Checkout appointment={booked} onPaid={setPaid} />;
  if (booked) return <Done doctor={d} appointment={booked} payment={paid} forName={forWhom?.first_name} />;

  const fee = reason?.fee_override ?? d.consultation_fee;
  return (
    <section class="card narrow booking-confirm" aria-labelledby="confirm-title">
      <h1 id="confirm-title">{t("title")}</h1>
      <dl class="summary">
        {forWhom && (
          <>
            <dt>{t("bookingFor")}</dt>
            <dd>{`${forWhom.first_name} ${forWhom.last_name}`}</dd>
          </>
        )}
        <dt>{t("with")}</dt>
        <dd>{doctorName(d)}</dd>
        <dt>{t("when")}</dt>
        <dd>{slotLabel(slot, d.time_zone)}</dd>
        <dt>{t("visit")}</dt>
        <dd>{slot.visit_type === "teleconsultation" ? tc("teleconsultation") : tc("inPerson")}</dd>
        {reason && (
          <>
            <dt>{t("reason")}</dt>
            <dd>{reason.name}</dd>
          </>
        )}
        <dt>{t("fee")}</dt>
        <dd>{formatMoney(fee, d.currency)}</dd>
        {slot.visit_type === "in-person" && d.address_line && (
          <>
            <dt>{t("where")}</dt>
            <dd>
              {d.address_line}, {d.postcode} {d.city}
            </dd>
          </>
        )}
      </dl>
      {slot.visit_type === "teleconsultation" && <p class="hint">{t("video")}</p>}
      <PolicyNote doctorId={d.id} reasonId={initial.reasonId || null} />
      {insideCutoff && (
        <Alert tone="warning">{t("insideCutoff", { hours: cutoff.data ?? 0 })}</Alert>
      )}
      <BookingProblem
        error={submit.error}
        slot={slot}
        zone={d.time_zone}
        onPick={(alternative) => {
          setSlot(alternative);
          submit.reset();
        }}
      />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        {(relatives.data?.length ?? 0) > 0 && (
          <SelectField
            label={t("bookingFor")}
            name="booking-for"
            value={forWhom ? forWhom.id : ""}
            onValue={setPatientId}
            options={[
              { value: "", label: t("myself") },
              ...(relatives.data ?? []).map((r) => ({ value: r.id, label: `${r.first_name} ${r.last_name}` })),
            ]}
          />
        )}
        <div class="field">
          <label for="booking-notes">{t("notes")}</label>
          <p class="hint" id="booking-notes-hint">
            {t("notesHint")}
          </p>
          <textarea
            id="booking-notes"
            aria-describedby="booking-notes-hint"
            rows={3}
            maxLength={2000}
            value={notes}
            onInput={(e) => setNotes(e.currentTarget.value)}
          />
        </div>
        <Button type="submit" busy={submit.busy} busyLabel={t("confirming")}>
          {t("confirm")}
        </Button>
      </form>
      <a href={`/doctors/${d.id}`}>{t("change")}</a>
    </section>
  );
}

function Done({
  doctor,
  appointment,
  payment,
  forName,
}: {
  doctor: Doctor;
  appointment: Appointment;
  payment: Payment | null;
  forName?: string | undefined;
}) {
  const t = useT(strings);
  const invoice = useAction(() => (payment ? downloadInvoice(payment) : Promise.resolve()));
  return (
    <section class="card narrow" aria-labelledby="done-title">
      <Alert tone="success">
        <h1 id="done-title" class="alert-title">
          {t("doneTitle")}
        </h1>
        <p>{t("done", { doctor: doctorName(doctor), when: slotLabel(appointment, appointment.time_zone) })}</p>
        {forName && <p>{t("forRelative", { name: forName })}</p>}
      </Alert>
      {payment && (
        <p class="payment-status" data-status={payment.status}>
          {t("paidStatus", { amount: formatMoney(payment.amount, payment.currency) })}{" "}
          {payment.invoice_number && (
            <Button variant="link" onClick={() => void invoice.run()} busy={invoice.busy}>
              {t("invoice", { number: payment.invoice_number })}
            </Button>
          )}
        </p>
      )}
      <p>{t("doneNext")}</p>
      <a class="btn btn-primary" href="/appointments">
        {t("mine")}
      </a>
    </section>
  );
}
