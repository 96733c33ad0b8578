// The visit reason's cancellation policy, shown on the confirmation step before booking: until
// when cancelling is free, what a later cancellation refunds, whether a reason is asked, and
// when this patient must pay first (the practice's no-show threshold).
import { Alert } from "../../components/Status";
import { useAsync } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";
import { cancellationPolicy } from "../../lib/waitlist";

const strings = defineStrings({
  en: {
    title: "Cancellation policy",
    free: "Cancel free of charge until {hours} hours before the visit.",
    late: "Later, {percent}% of a paid fee is refunded.",
    online: "Online cancelling closes {hours} hours before the visit.",
    reason_late: "A late cancellation asks you why.",
    reason_always: "Cancelling asks you why.",
    atVisit: "You pay at the visit.",
    prepay: "This practice asks you to pay when booking (missed visits).",
  },
  fr: {
    title: "Conditions d’annulation",
    free: "Annulation gratuite jusqu’à {hours} heures avant la consultation.",
    late: "Plus tard, {percent} % des honoraires payés sont remboursés.",
    online: "L’annulation en ligne ferme {hours} heures avant la consultation.",
    reason_late: "Une annulation tardive vous demande pourquoi.",
    reason_always: "Toute annulation vous demande pourquoi.",
    atVisit: "Vous payez lors de la consultation.",
    prepay: "Ce cabinet vous demande de payer à la réservation (rendez-vous manqués).",
  },
});

export function PolicyNote({ doctorId, reasonId }: { doctorId: string; reasonId: string | null }) {
  const t = useT(strings);
  const policy = useAsync((signal) => cancellationPolicy(doctorId, reasonId, signal), [doctorId, reasonId]);
  const p = policy.data;
  if (!p) return null;
  return (
    <section class="policy-note" aria-labelledby="policy-title" data-testid="cancellation-policy">
      <h2 id="policy-title" class="label">
        {t("title")}
      </h2>
      <ul>
        <li>{t("free", { hours: p.refund_cutoff_hours })}</li>
        <li>{t("late", { percent: p.late_refund_percent })}</li>
        <li>{t("online", { hours: p.online_cancel_cutoff_hours })}</li>
        {p.reason_required !== "never" && <li>{t(p.reason_required === "late" ? "reason_late" : "reason_always")}</li>}
        {p.pay_at_visit && !p.prepay_required && <li>{t("atVisit")}</li>}
      </ul>
      {p.prepay_required && <Alert tone="warning">{t("prepay")}</Alert>}
    </section>
  );
}
