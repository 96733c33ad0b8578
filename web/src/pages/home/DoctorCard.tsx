// One search result: who, where, how far, how much, how rated, and when free next (on the
// practice's clock, its zone named when it is not the viewer's).
import { Rating } from "../../components/Rating";
import { doctorName } from "../../lib/doctors";
import { useT } from "../../lib/i18n";
import { formatDistance, formatMoney } from "../../lib/money";
import { formatDateTimeInZone } from "../../lib/time";
import type { DoctorHit } from "./search";
import { strings } from "./strings";

// Nothing free within a week: the card offers the waitlist instead.
const SOON_MS = 7 * 86_400_000;

export const nothingSoon = (next: string | null): boolean => next === null || Date.parse(next) - Date.now() > SOON_MS;

export function DoctorCard({ hit }: { hit: DoctorHit }) {
  const t = useT(strings);
  const name = doctorName(hit);
  return (
    <li class="card doctor-card">
      <div class="doctor-card-head">
        <div class="avatar" aria-hidden="true">
          {hit.first_name.charAt(0)}
          {hit.last_name.charAt(0)}
        </div>
        <div>
          <h3>
            <a href={`/doctors/${hit.id}`}>{name}</a>
          </h3>
          <p class="muted">{hit.specializations.map((s) => s.name).join(", ")}</p>
        </div>
      </div>
      <ul class="facts">
        <li>
          {hit.city}
          {hit.distance_km !== null && ` · ${t("away", { distance: formatDistance(hit.distance_km) })}`}
        </li>
        <li>{t("fee", { fee: formatMoney(hit.fee, hit.currency) })}</li>
        <li>
          <Rating rating={hit.rating} total={hit.total_reviews} />
        </li>
        <li class={hit.next_available ? "next-slot" : "muted"}>
          {hit.next_available
            ? t("next", { when: formatDateTimeInZone(hit.next_available, hit.time_zone) })
            : t("noSlot")}
        </li>
        {hit.visit_types.includes("teleconsultation") && <li class="badge">{t("video")}</li>}
      </ul>
      {nothingSoon(hit.next_available) && (
        <a class="waitlist-link" href={`/waitlist?doctor=${hit.id}`}>
          {t("waitlist")}
        </a>
      )}
    </li>
  );
}
