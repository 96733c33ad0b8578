// The analytics dashboard: the admin's platform figures, or a doctor's own (`own`).
import { useMemo, useState } from "preact/hooks";
import { ErrorView, Loading } from "./Status";
import { Chart } from "./Chart";
import { TextField } from "./Field";
import { bookingsPerDay, busiest, connected, leadTime, outcomes, revenuePerDay } from "../lib/analytics";
import { useAsync } from "../lib/hooks";
import { defineStrings, formatLocale, plural, useT } from "../lib/i18n";
import { specializations, specialtyName } from "../lib/doctors";
import { formatDay } from "../lib/time";

const strings = defineStrings({
  en: {
    from: "From",
    to: "To",
    bookings: "Bookings per day",
    booked: "Booked",
    revenue: "Revenue per day",
    noRevenue: "No payment yet: revenue appears here as payments land.",
    rates: "Outcomes of the visits due",
    cancellation: "Cancellation rate: {rate} ({n} of {total})",
    noShow: "No-show rate: {rate} ({n} of {past} past visits)",
    lead: "Lead time from booking to visit",
    leadText: "{visits} visits: mean {mean} h, median {median} h, 90% within {p90} h",
    specialties: "Busiest specialties",
    cities: "Busiest cities",
    visits: "Visits",
    connected: "Connected now",
    connectedText_one: "{count} live connection on this server",
    connectedText_other: "{count} live connections on this server",
    table: "Show the data as a table",
    none: "—",
  },
  fr: {
    from: "Du",
    to: "Au",
    bookings: "Réservations par jour",
    booked: "Réservés",
    revenue: "Chiffre d’affaires par jour",
    noRevenue: "Aucun paiement pour l’instant : le chiffre d’affaires s’affiche dès les premiers paiements.",
    rates: "Issue des consultations prévues",
    cancellation: "Taux d’annulation : {rate} ({n} sur {total})",
    noShow: "Taux d’absence : {rate} ({n} sur {past} consultations passées)",
    lead: "Délai entre réservation et consultation",
    leadText: "{visits} consultations : moyenne {mean} h, médiane {median} h, 90 % sous {p90} h",
    specialties: "Spécialités les plus demandées",
    cities: "Villes les plus actives",
    visits: "Consultations",
    connected: "Connectés maintenant",
    connectedText_one: "{count} connexion en direct sur ce serveur",
    connectedText_other: "{count} connexions en direct sur ce serveur",
    table: "Afficher les données en tableau",
    none: "—",
  },
});

const BLUE = "#2f6fd1";
const GREEN = "#1a7f37";
// The viewer's calendar day (not UTC's: just after midnight in Paris, UTC is still yesterday).
const isoDay = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

export function AnalyticsDashboard({ own }: { own: boolean }) {
  const t = useT(strings);
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * 86_400_000)));
  const [to, setTo] = useState(isoDay(today));
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const query = { from, to, tz };
  const figures = useAsync(
    () =>
      Promise.all([
        bookingsPerDay(query),
        outcomes(query),
        revenuePerDay(query),
        leadTime(query),
        own ? Promise.resolve(null) : busiest(query),
        own ? Promise.resolve(null) : connected(),
      ]),
    [from, to],
  );
  // Numbers in the reader's language: "5,6 %" and "244,2" in French.
  const pct = (rate: number | null) =>
    rate === null ? t("none") : new Intl.NumberFormat(formatLocale(), { style: "percent", maximumFractionDigits: 1 }).format(rate);
  const hours = (value: number | null) =>
    value === null ? t("none") : new Intl.NumberFormat(formatLocale(), { maximumFractionDigits: 1 }).format(value);
  const specialties = useAsync(() => specializations().catch(() => []), []);
  const data = figures.data;
  const bookingChart = useMemo(
    () =>
      data && {
        labels: data[0].days.map((d) => formatDay(`${d.day}T12:00:00`)),
        series: [{ label: t("booked"), values: data[0].days.map((d) => d.count), color: BLUE }],
      },
    [data],
  );
  // Currency codes as people write them (EUR, not the API's "eur"), named once when only one.
  const revenueCurrencies = [...new Set((data?.[2].days ?? []).map((d) => d.currency.toUpperCase()))];
  return (
    <div class="page analytics">
      <section class="card admin-filters" aria-label={`${t("from")} / ${t("to")}`}>
        <TextField label={t("from")} type="date" value={from} onValue={setFrom} />
        <TextField label={t("to")} type="date" value={to} onValue={setTo} />
      </section>
      {figures.loading && !data && <Loading />}
      {figures.error !== undefined && <ErrorView error={figures.error} onRetry={figures.reload} />}
      {data && bookingChart && (
        <div class="admin-grid">
          <section class="card">
            <Chart title={t("bookings")} kind="bars" tableCaption={t("table")} {...bookingChart} />
          </section>
          <section class="card">
            {data[2].days.length ? (
              <Chart
                title={t("revenue")}
                kind="line"
                tableCaption={t("table")}
                labels={data[2].days.map((d) =>
                  revenueCurrencies.length > 1
                    ? `${formatDay(`${d.day}T12:00:00`)} ${d.currency.toUpperCase()}`
                    : formatDay(`${d.day}T12:00:00`),
                )}
                series={[
                  {
                    label: `${t("revenue")} (${revenueCurrencies.join(", ")})`,
                    values: data[2].days.map((d) => d.amount / 100),
                    color: GREEN,
                  },
                ]}
              />
            ) : (
              <>
                <h2>{t("revenue")}</h2>
                <p>{t("noRevenue")}</p>
              </>
            )}
          </section>
          <section class="card" aria-labelledby="rates-title">
            <h2 id="rates-title">{t("rates")}</h2>
            <p>{t("cancellation", { rate: pct(data[1].cancellation_rate), n: data[1].cancelled, total: data[1].appointments })}</p>
            <p>{t("noShow", { rate: pct(data[1].no_show_rate), n: data[1].no_show, past: data[1].past })}</p>
          </section>
          <section class="card" aria-labelledby="lead-title">
            <h2 id="lead-title">{t("lead")}</h2>
            <p>
              {t("leadText", {
                visits: data[3].visits,
                mean: hours(data[3].mean_hours),
                median: hours(data[3].median_hours),
                p90: hours(data[3].p90_hours),
              })}
            </p>
          </section>
          {data[4] && (
            <>
              <section class="card">
                <Chart
                  title={t("specialties")}
                  kind="bars"
                  tableCaption={t("table")}
                  labels={data[4].specialties.map((s) => specialtyName(specialties.data, s.key))}
                  series={[{ label: t("visits"), values: data[4].specialties.map((s) => s.appointments), color: BLUE }]}
                />
              </section>
              <section class="card">
                <Chart
                  title={t("cities")}
                  kind="bars"
                  tableCaption={t("table")}
                  labels={data[4].cities.map((s) => s.key)}
                  series={[{ label: t("visits"), values: data[4].cities.map((s) => s.appointments), color: GREEN }]}
                />
              </section>
            </>
          )}
          {data[5] && (
            <section class="card" aria-labelledby="connected-title">
              <h2 id="connected-title">{t("connected")}</h2>
              <p>{plural(t, "connectedText", data[5].total)}</p>
              <ul class="plain-list">
                {Object.entries(data[5].sockets).map(([ns, n]) => (
                  <li key={ns}>
                    <code>{ns}</code>: {n}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
