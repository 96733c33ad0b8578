// One appointment seen by its doctor: the patient's profile and history, and the outcome.
import { useRoute } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { slotLabel } from "../../components/BookingProblem";
import { StepUpPrompt } from "../../components/AdminFrame";
import { Button } from "../../components/Button";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { PaymentSummary } from "../../components/PaymentList";
import { StatusBadge } from "../../components/StatusBadge";
import { newIdempotencyKey } from "../../lib/api";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { doctorPayments } from "../../lib/payments";
import { STEP_UP_REQUIRED } from "../../lib/admin";
import { errorMessage, isProblem } from "../../lib/errors";
import { useT } from "../../lib/i18n";
import { bookedByStrings, bookedByText } from "../../lib/relatives";
import { getPatient, medicalHistory } from "../../lib/patients";
import { cancelAppointment, getAppointment, transition, videoWindowOpen, type DoctorAction } from "../../lib/scheduling";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import type { Appointment } from "../../lib/types";
import { strings } from "./strings";

const ACTIONS: { action: DoctorAction; transition: string; label: "confirm" | "complete" | "noShow" }[] = [
  { action: "confirm", transition: "confirm", label: "confirm" },
  { action: "complete", transition: "complete", label: "complete" },
  { action: "no-show", transition: "no_show", label: "noShow" },
];

export default function AppointmentDetailPage() {
  const t = useT(strings);
  const tc = useT(common);
  const { params } = useRoute();
  const id = params.id ?? "";
  useDocumentTitle(t("title"));
  const loaded = useAsync((signal) => getAppointment(id, signal), [id]);
  const [appointment, setAppointment] = useState<Appointment | undefined>(undefined);
  useEffect(() => setAppointment(loaded.data), [loaded.data]);
  // Its payment, if any (servers without payments answer 409: nothing shown).
  const payment = useAsync(
    () =>
      loaded.data
        ? doctorPayments(loaded.data.doctor_id, 0, loaded.data.id).then((page) => page.items[0], () => undefined)
        : Promise.resolve(undefined),
    [loaded.data?.id],
  );
  const [notice, setNotice] = useState("");
  const tb = useT(bookedByStrings);
  // Each press makes one Idempotency-Key, reused by the client's automatic retries of it.
  const act = useAction(async (run: (idempotencyKey: string) => Promise<Appointment>) => {
    const updated = await run(newIdempotencyKey());
    setAppointment(updated);
    setNotice(t("done", { status: tc(`status_${updated.status}`) }));
  });

  if (loaded.loading) return <Loading />;
  // An admin's step-up is older than 5 minutes: appointments are health data, ask again.
  if (isProblem(loaded.error, STEP_UP_REQUIRED))
    return (
      <div class="page">
        <h1>{t("title")}</h1>
        <StepUpPrompt onDone={loaded.reload} />
      </div>
    );
  if (!appointment) return <ErrorView error={loaded.error} onRetry={loaded.reload} />;
  const a = appointment;
  const allowed = (name: string) => a.allowed_transitions.includes(name);
  return (
    <div class="page split">
      <section class="card" aria-labelledby="appointment-title">
        <a href="/agenda">{t("back")}</a>
        <h1 id="appointment-title">
          {t("title")} <StatusBadge status={a.status} />
        </h1>
        <dl class="summary">
          <dt>{t("when")}</dt>
          <dd>{slotLabel(a, a.time_zone)}</dd>
          <dt>{t("visit")}</dt>
          <dd>{a.visit_type === "teleconsultation" ? tc("teleconsultation") : tc("inPerson")}</dd>
          {a.reason_name && (
            <>
              <dt>{t("reason")}</dt>
              <dd>{a.reason_name}</dd>
            </>
          )}
          {payment.data && (
            <>
              <dt>{t("payment")}</dt>
              <dd>
                <PaymentSummary payment={payment.data} />
              </dd>
            </>
          )}
          <dt>{t("notes")}</dt>
          <dd>{a.notes || t("noNotes")}</dd>
        </dl>
        {a.booked_by && <p class="booked-by">{bookedByText(a.booked_by, tb)}</p>}
        <div aria-live="polite">{notice && <Alert tone="success">{notice}</Alert>}</div>
        {act.error !== undefined && <Alert>{errorMessage(act.error, tc)}</Alert>}
        <div class="actions">
          {videoWindowOpen(a) && (
            <a class="btn btn-primary" href={`/consult/${a.id}`}>
              {t("join")}
            </a>
          )}
          {ACTIONS.filter((x) => allowed(x.transition)).map((x) => (
            <Button key={x.action} variant="secondary" busy={act.busy} busyLabel={t("working")} onClick={() => act.run((key) => transition(a.id, x.action, key))}>
              {t(x.label)}
            </Button>
          ))}
          {allowed("cancel") && (
            <Button variant="danger" busy={act.busy} busyLabel={t("cancelling")} onClick={() => act.run((key) => cancelAppointment(a.id, key))}>
              {t("cancel")}
            </Button>
          )}
        </div>
        {Object.values(a.refused_transitions).includes("not_started") && <p class="hint">{t("notStarted")}</p>}
      </section>
      <PatientPanel patientId={a.patient_id} />
    </div>
  );
}

function PatientPanel({ patientId }: { patientId: string }) {
  const t = useT(strings);
  const patient = useAsync(() => getPatient(patientId), [patientId]);
  const history = useAsync(() => medicalHistory(patientId), [patientId]);
  return (
    <section class="card" aria-labelledby="patient-title">
      <h2 id="patient-title">{t("patient")}</h2>
      {patient.loading && <Loading />}
      {patient.error !== undefined && <ErrorView error={patient.error} onRetry={patient.reload} />}
      {patient.data && (
        <dl class="summary">
          <dt>{t("patient")}</dt>
          <dd>
            {patient.data.first_name} {patient.data.last_name}
          </dd>
          {patient.data.date_of_birth && (
            <>
              <dt>{t("born")}</dt>
              <dd>{formatLongDate(`${patient.data.date_of_birth}T12:00:00`)}</dd>
            </>
          )}
          {patient.data.phone && (
            <>
              <dt>{t("phone")}</dt>
              <dd>
                <a href={`tel:${patient.data.phone}`}>{patient.data.phone}</a>
              </dd>
            </>
          )}
        </dl>
      )}
      <h3>{t("history")}</h3>
      {history.loading && <Loading />}
      {history.error !== undefined && <ErrorView error={history.error} onRetry={history.reload} />}
      {history.data && history.data.items.length === 0 && <Empty>{t("noHistory")}</Empty>}
      <ul class="plain-list">
        {history.data?.items.map((entry) => (
          <li key={entry.id}>
            <strong>{entry.condition}</strong>
            {entry.diagnosis_date && (
              <span class="muted"> · {t("diagnosed", { date: formatLongDate(`${entry.diagnosis_date}T12:00:00`) })}</span>
            )}
            {entry.notes && <p>{entry.notes}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
