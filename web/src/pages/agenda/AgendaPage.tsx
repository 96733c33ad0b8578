// The doctor's live agenda (day or week), with who is waiting in the video waiting room.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { myDoctorProfile } from "../../lib/doctors";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { addDays, dayKey, formatLongDate, formatTime, startOfDay, startOfWeek } from "../../lib/time";
import type { Appointment } from "../../lib/types";
import { StatusBadge } from "../../components/StatusBadge";
import { strings } from "./strings";
import { DoctorControls } from "./DoctorControls";
import { useAgenda } from "./useAgenda";
import { patientName, WaitingRoom } from "./WaitingRoom";
import { bookedByStrings, bookedByText } from "../../lib/relatives";
import "./agenda.css";

type View = "day" | "week";

export default function AgendaPage() {
  const t = useT(strings);
  const tc = useT(common);
  useDocumentTitle(t("title"));
  const [view, setView] = useState<View>("day");
  const [anchor, setAnchor] = useState(() => startOfDay(new Date()));
  const doctor = useAsync(() => myDoctorProfile(), []);
  const from = view === "day" ? anchor : startOfWeek(anchor);
  const to = addDays(from, view === "day" ? 1 : 7);
  const agenda = useAgenda(doctor.data?.id, from, to);

  if (doctor.error instanceof ApiError && doctor.error.status === 404) return <Alert tone="info">{t("noProfile")}</Alert>;
  if (doctor.error !== undefined) return <ErrorView error={doctor.error} onRetry={doctor.reload} />;
  const step = view === "day" ? 1 : 7;
  const days = Array.from({ length: step }, (_, i) => addDays(from, i));

  return (
    <section class="page agenda" aria-labelledby="agenda-title" data-week={dayKey(startOfWeek(anchor))}>
      <div class="row agenda-head">
        <h1 id="agenda-title">{t("title")}</h1>
        <div class="tabs" role="tablist" aria-label={t("view")}>
          {(["day", "week"] as const).map((v) => (
            <button key={v} type="button" role="tab" aria-selected={view === v} onClick={() => setView(v)}>
              {t(v)}
            </button>
          ))}
        </div>
      </div>
      {doctor.data && <DoctorControls doctorId={doctor.data.id} />}
      <div class="row">
        <Button variant="secondary" onClick={() => setAnchor(addDays(anchor, -step))}>
          <span aria-hidden="true">‹</span> {t("previous")}
        </Button>
        <Button variant="secondary" onClick={() => setAnchor(startOfDay(new Date()))}>
          {t("today")}
        </Button>
        <Button variant="secondary" onClick={() => setAnchor(addDays(anchor, step))}>
          {t("next")} <span aria-hidden="true">›</span>
        </Button>
        <strong>{view === "day" ? formatLongDate(from) : `${formatLongDate(from)} – ${formatLongDate(addDays(to, -1))}`}</strong>
      </div>
      <div aria-live="polite" class="live-status">
        {agenda.status === "reconnecting" && <p class="alert alert-warning">{tc("reconnecting")}</p>}
        {agenda.status === "live" && <p class="hint live-dot">{t("live")}</p>}
        {agenda.lastEvent && (
          <p class="visually-hidden">{t("changed", { what: t(eventWord(agenda.lastEvent.type)) })}</p>
        )}
      </div>
      <WaitingRoom waiting={agenda.waiting} items={agenda.items} />
      {agenda.error !== undefined && <ErrorView error={agenda.error} />}
      {(doctor.loading || (agenda.loading && agenda.items.length === 0)) && <Loading />}
      {days.map((day) => {
        const items = agenda.items.filter((a) => dayKey(a.start) === dayKey(day));
        return (
          <section key={dayKey(day)} class="agenda-day" aria-label={formatLongDate(day)}>
            {view === "week" && <h2>{formatLongDate(day)}</h2>}
            {items.length === 0 && !agenda.loading ? (
              <Empty>{t("empty")}</Empty>
            ) : (
              <ul class="plain-list">
                {items.map((a) => (
                  <AgendaRow
                    key={a.id}
                    appointment={a}
                    waiting={agenda.waiting.has(a.id)}
                    fresh={agenda.lastEvent?.appointmentId === a.id}
                  />
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </section>
  );
}

function eventWord(type: string): "created" | "cancelled" | "rescheduled" | "updated" {
  if (type === "appointment.created") return "created";
  if (type === "appointment.cancelled") return "cancelled";
  if (type === "appointment.rescheduled") return "rescheduled";
  return "updated";
}

interface RowProps {
  appointment: Appointment;
  waiting: boolean;
  fresh: boolean;
}

function AgendaRow({ appointment, waiting, fresh }: RowProps) {
  const t = useT(strings);
  const tc = useT(common);
  const tb = useT(bookedByStrings);
  const patient = appointment.patient;
  const name = patientName(appointment) ?? t("patient");
  const bookedBy = bookedByText(appointment.booked_by, tb);
  return (
    <li class={`card agenda-row ${fresh ? "fresh" : ""}`}>
      <span class="agenda-time">
        {formatTime(appointment.start)}–{formatTime(appointment.end)}
      </span>
      <span class="agenda-who">
        <a href={`/agenda/appointments/${appointment.id}`}>{name}</a>
        {appointment.reason_name && <span class="muted"> · {appointment.reason_name}</span>}
        {bookedBy && <span class="muted agenda-booked-by"> · {bookedBy}</span>}
        {patient && (patient.age !== null || patient.phone) && (
          <span class="muted agenda-patient">
            {patient.age !== null && ` · ${t("age", { age: patient.age })}`}
            {patient.phone && (
              <>
                {" · "}
                <a href={`tel:${patient.phone}`}>{patient.phone}</a>
              </>
            )}
          </span>
        )}
      </span>
      <span class="agenda-tags">
        {patient?.first_visit && !patient.erased && <span class="badge">{t("firstVisit")}</span>}
        {appointment.visit_type === "teleconsultation" && <span class="badge">{tc("teleconsultation")}</span>}
        {waiting && (
          <a class="badge badge-waiting" href={`/consult/${appointment.id}`}>
            {t("waiting")}
          </a>
        )}
        <StatusBadge status={appointment.status} />
      </span>
    </li>
  );
}
