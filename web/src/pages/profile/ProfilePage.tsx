// The patient's profile and medical history, side by side on wide screens.
import { ErrorView, Loading } from "../../components/Status";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { myPatientProfile } from "../../lib/patients";
import { DataExport } from "./DataExport";
import { History } from "./History";
import { ProfileForm } from "./ProfileForm";
import { strings } from "./strings";

export default function ProfilePage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const profile = useAsync(() => myPatientProfile(true), []);
  if (profile.loading) return <Loading />;
  if (!profile.data) return <ErrorView error={profile.error} onRetry={profile.reload} />;
  return (
    <div class="page">
      <h1>{t("title")}</h1>
      <div class="split">
        <ProfileForm profile={profile.data} />
        <History patientId={profile.data.id} />
      </div>
      <DataExport />
    </div>
  );
}
