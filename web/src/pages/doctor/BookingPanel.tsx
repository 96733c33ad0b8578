// Reason and visit type, then a slot from the live grid: picking one opens the confirmation.
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { SelectField } from "../../components/Field";
import { LiveSlotPicker } from "../../components/LiveSlotPicker";
import { useAsync } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { getAvailability } from "../../lib/scheduling";
import { common } from "../../lib/strings";
import type { Doctor, VisitType } from "../../lib/types";
import { bookingUrl } from "../book/url";
import { strings } from "./strings";

export function BookingPanel({ doctor }: { doctor: Doctor }) {
  const t = useT(strings);
  const tc = useT(common);
  const { route } = useLocation();
  const availability = useAsync((signal) => getAvailability(doctor.id, signal).catch(() => null), [doctor.id]);
  const reasons = availability.data?.reasons ?? [];
  const [reasonId, setReasonId] = useState("");
  const [visitType, setVisitType] = useState<VisitType | "">("");
  const reason = reasons.find((r) => r.id === reasonId);
  const visitTypes: VisitType[] = reason ? reason.visit_types : ["in-person", "teleconsultation"];

  return (
    <section class="card booking" aria-labelledby="book-title">
      <h2 id="book-title">{t("bookTitle")}</h2>
      <div class="booking-choices">
        {reasons.length > 0 && (
          <SelectField
            label={t("reason")}
            hint={t("reasonHint")}
            name="reason"
            value={reasonId}
            onValue={(id) => {
              setReasonId(id);
              const chosen = reasons.find((r) => r.id === id);
              if (chosen && visitType && !chosen.visit_types.includes(visitType)) setVisitType("");
            }}
            options={[{ value: "", label: t("anyReason") }, ...reasons.map((r) => ({ value: r.id ?? "", label: r.name }))]}
          />
        )}
        <SelectField
          label={t("visitType")}
          name="visit_type"
          value={visitType}
          onValue={(v) => setVisitType(v as VisitType | "")}
          options={[
            { value: "", label: tc("anyVisit") },
            ...visitTypes.map((v) => ({ value: v, label: v === "in-person" ? tc("inPerson") : tc("teleconsultation") })),
          ]}
        />
      </div>
      <LiveSlotPicker
        doctorId={doctor.id}
        doctorZone={doctor.time_zone}
        visitType={visitType}
        reasonId={reasonId}
        onPick={(slot) => route(bookingUrl({ doctorId: doctor.id, slot, reasonId }))}
        onAvailabilityChanged={availability.reload}
      />
      <p class="waitlist-link">
        {t("waitlistHint")} <a href={`/waitlist?doctor=${doctor.id}`}>{t("joinWaitlist")}</a>
      </p>
    </section>
  );
}
