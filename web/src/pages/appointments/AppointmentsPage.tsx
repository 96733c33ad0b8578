// The patient's appointments: upcoming first, then past and cancelled, with the cancel policy.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { doctorsById } from "../../lib/doctors";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { myPatientProfile } from "../../lib/patients";
import { myRelatives } from "../../lib/relatives";
import { patientPayments, type Payment } from "../../lib/payments";
import { CANCEL_CUTOFF_HOURS, isActive, patientAppointments } from "../../lib/scheduling";
import type { Appointment } from "../../lib/types";
import { AppointmentItem } from "./AppointmentItem";
import { strings } from "./strings";
import "./appointments.css";

type Tab = "upcoming" | "past";

export default function AppointmentsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const [tab, setTab] = useState<Tab>("upcoming");
  // "Their appointments" on My relatives links here with ?for=<relative id>: that person's only.
  const forId = useLocation().query.for ?? "";
  // The patient's own appointments and those of the relatives they manage (issue #24).
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const list = useAsync(async (signal) => {
    const [me, relatives] = await Promise.all([myPatientProfile(), myRelatives().catch(() => [])]);
    setNames(new Map(relatives.map((r) => [r.id, `${r.first_name} ${r.last_name}`])));
    const pages = await Promise.all([me.id, ...relatives.map((r) => r.id)].map((id) => patientAppointments(id, signal)));
    return pages.flatMap((page) => page.items);
  }, []);
  const [items, setItems] = useState<Appointment[]>([]);
  useEffect(() => setItems(list.data ?? []), [list.data]);
  // Each appointment's latest payment (servers without payments answer 409: none shown).
  const payments = useAsync(async () => {
    const me = await myPatientProfile();
    const page = await patientPayments(me.id, 0, 100).catch(() => ({ items: [] as Payment[] }));
    const latest = new Map<string, Payment>();
    for (const p of page.items) if (!latest.has(p.appointment_id)) latest.set(p.appointment_id, p);
    return latest;
  }, []);
  const doctors = useAsync(() => doctorsById(items.map((a) => a.doctor_id)), [items.map((a) => a.doctor_id).join()]);

  const forName = names.get(forId);
  const listed = forName ? items.filter((a) => a.patient_id === forId) : items;
  const now = Date.now();
  const upcoming = listed
    .filter((a) => isActive(a) && Date.parse(a.end) > now)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const past = listed.filter((a) => !upcoming.includes(a)).sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  const shown = tab === "upcoming" ? upcoming : past;
  const [notice, setNotice] = useState("");
  const replace = (updated: Appointment, message: string) => {
    setItems((all) => all.map((a) => (a.id === updated.id ? updated : a)));
    setNotice(message);
  };

  return (
    <section class="page" aria-labelledby="appointments-title">
      <h1 id="appointments-title">{t("title")}</h1>
      <p class="hint">{t("policy", { hours: CANCEL_CUTOFF_HOURS })}</p>
      {forName && (
        <p class="for-relative" data-testid="only-for">
          {t("onlyFor", { name: forName })} <a href="/appointments">{t("everyone")}</a>
        </p>
      )}
      <div aria-live="polite">{notice && <Alert tone="success">{notice}</Alert>}</div>
      <div class="tabs" role="tablist" aria-label={t("title")}>
        {(["upcoming", "past"] as const).map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls="appointments-panel"
            onClick={() => setTab(name)}
          >
            {t(name)} ({(name === "upcoming" ? upcoming : past).length})
          </button>
        ))}
      </div>
      <div id="appointments-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {list.loading && <Loading />}
        {list.error !== undefined && <ErrorView error={list.error} onRetry={list.reload} />}
        {list.data && shown.length === 0 && (
          <Empty>
            {tab === "upcoming" ? t("noUpcoming") : t("noPast")} {tab === "upcoming" && <a href="/">{t("find")}</a>}
          </Empty>
        )}
        <ul class="plain-list">
          {shown.map((appointment) => (
            <AppointmentItem
              key={appointment.id}
              appointment={appointment}
              doctor={doctors.data?.get(appointment.doctor_id)}
              payment={payments.data?.get(appointment.id)}
              forName={names.get(appointment.patient_id)}
              onChange={replace}
            />
          ))}
        </ul>
      </div>
    </section>
  );
}
