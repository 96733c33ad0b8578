// The payments a doctor received, newest first, with their invoices.
import { PaymentList } from "../../components/PaymentList";
import { myDoctorProfile } from "../../lib/doctors";
import { useDocumentTitle } from "../../lib/hooks";
import { defineStrings, useT } from "../../lib/i18n";
import { doctorPayments } from "../../lib/payments";

const strings = defineStrings({
  en: { title: "Payments received" },
  fr: { title: "Paiements reçus" },
});

export default function DoctorPaymentsPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  return (
    <section class="page" aria-labelledby="doctor-payments-title">
      <h1 id="doctor-payments-title">{t("title")}</h1>
      <PaymentList load={async (offset) => doctorPayments((await myDoctorProfile()).id, offset)} />
    </section>
  );
}
