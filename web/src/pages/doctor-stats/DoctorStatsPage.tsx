// A doctor's own figures: bookings, outcomes, revenue and lead time of their appointments.
import { AnalyticsDashboard } from "../../components/AnalyticsDashboard";
import { useDocumentTitle } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";

const strings = defineStrings({ en: { title: "My figures" }, fr: { title: "Mes chiffres" } });

export default function DoctorStatsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  return (
    <div class="page">
      <h1>{t("title")}</h1>
      <AnalyticsDashboard own />
    </div>
  );
}
