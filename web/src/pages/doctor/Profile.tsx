// The doctor's card: identity, specialties, rating, fee, address, languages, bio.
import { Rating } from "../../components/Rating";
import { doctorName, languageName, specialtyName } from "../../lib/doctors";
import { plural, useT } from "../../lib/i18n";
import { formatMoney } from "../../lib/money";
import type { Doctor, Specialization } from "../../lib/types";
import { strings } from "./strings";

export function Profile({ doctor, specialties }: { doctor: Doctor; specialties: Specialization[] | undefined }) {
  const t = useT(strings);
  return (
    <section class="card profile" aria-labelledby="doctor-name">
      <div class="profile-head">
        <div class="avatar avatar-lg" aria-hidden="true">
          {doctor.first_name.charAt(0)}
          {doctor.last_name.charAt(0)}
        </div>
        <div>
          <h1 id="doctor-name">{doctorName(doctor)}</h1>
          <p class="muted">{doctor.specializations.map((c) => specialtyName(specialties, c)).join(", ")}</p>
          <Rating rating={doctor.rating} total={doctor.total_reviews} />
        </div>
      </div>
      <dl class="facts-list">
        <div>
          <dt>{t("fee")}</dt>
          <dd>{formatMoney(doctor.consultation_fee, doctor.currency)}</dd>
        </div>
        <div>
          <dt>{t("address")}</dt>
          <dd>
            {[doctor.address_line, `${doctor.postcode} ${doctor.city}`.trim()].filter(Boolean).join(", ")}
          </dd>
        </div>
        {doctor.languages.length > 0 && (
          <div>
            <dt>{t("languages")}</dt>
            <dd>{doctor.languages.map(languageName).join(", ")}</dd>
          </div>
        )}
        <div>
          <dt class="visually-hidden">{t("newPatients")}</dt>
          <dd>
            {plural(t, "experience", doctor.years_of_experience)} ·{" "}
            {doctor.accepts_new_patients ? t("newPatients") : t("noNewPatients")}
          </dd>
        </div>
      </dl>
      {doctor.bio && (
        <>
          <h2>{t("about")}</h2>
          <p class="bio">{doctor.bio}</p>
        </>
      )}
    </section>
  );
}
