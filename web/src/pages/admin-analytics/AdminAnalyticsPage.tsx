// Admin: platform analytics with charts.
import { AdminFrame } from "../../components/AdminFrame";
import { AnalyticsDashboard } from "../../components/AnalyticsDashboard";
import { useDocumentTitle } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";

const strings = defineStrings({ en: { title: "Analytics" }, fr: { title: "Statistiques" } });

export default function AdminAnalyticsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  return (
    <AdminFrame title={t("title")}>
      <AnalyticsDashboard own={false} />
    </AdminFrame>
  );
}
