// The patient's payments, newest first, with their invoices.
import { PaymentList } from "../../components/PaymentList";
import { useDocumentTitle } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";
import { myPatientProfile } from "../../lib/patients";
import { patientPayments } from "../../lib/payments";

const strings = defineStrings({
  en: { title: "My payments" },
  fr: { title: "Mes paiements" },
});

export default function PaymentsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  return (
    <section class="page" aria-labelledby="payments-title">
      <h1 id="payments-title">{t("title")}</h1>
      <PaymentList load={async (offset) => patientPayments((await myPatientProfile()).id, offset)} />
    </section>
  );
}
