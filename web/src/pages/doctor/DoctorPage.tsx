// A doctor's page: profile, live booking grid, reviews.
import { useRoute } from "preact-iso";
import { ErrorView, Loading } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { doctorName, getDoctor, specializations } from "../../lib/doctors";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { BookingPanel } from "./BookingPanel";
import { Profile } from "./Profile";
import { Reviews } from "./Reviews";
import { strings } from "./strings";
import "./doctor.css";

export default function DoctorPage() {
  const t = useT(strings);
  const { params } = useRoute();
  const id = params.id ?? "";
  const doctor = useAsync((signal) => getDoctor(id, signal), [id]);
  const specialties = useAsync(() => specializations(), []);
  useDocumentTitle(doctor.data ? doctorName(doctor.data) : "");

  if (doctor.loading && !doctor.data) return <Loading />;
  if (doctor.error instanceof ApiError && (doctor.error.status === 404 || doctor.error.status === 422)) {
    return <p class="alert alert-info">{t("notFound")}</p>;
  }
  if (doctor.error !== undefined || !doctor.data) return <ErrorView error={doctor.error} onRetry={doctor.reload} />;
  return (
    <div class="page split doctor-page">
      <div class="page">
        <Profile doctor={doctor.data} specialties={specialties.data} />
        <BookingPanel doctor={doctor.data} />
      </div>
      <Reviews doctorId={id} />
    </div>
  );
}
