// One page of payments (a patient's or a doctor's): amount, status, refunds, invoice download.
import { useState } from "preact/hooks";
import { Button } from "./Button";
import { Empty, ErrorView, Loading } from "./Status";
import { useAction, useAsync } from "../lib/hooks";
import { defineStrings, useT } from "../lib/i18n";
import { formatMoney } from "../lib/money";
import { downloadInvoice, type Payment } from "../lib/payments";
import { formatDateTime } from "../lib/time";
import type { Page } from "../lib/types";

const strings = defineStrings({
  en: {
    none: "No payments yet.",
    pending: "Pending",
    completed: "Paid",
    failed: "Failed",
    refunded: "Refunded",
    refundedPart: "{amount} refunded",
    invoice: "Invoice {number}",
    more: "Show more",
  },
  fr: {
    none: "Aucun paiement pour l’instant.",
    pending: "En cours",
    completed: "Payé",
    failed: "Échoué",
    refunded: "Remboursé",
    refundedPart: "{amount} remboursés",
    invoice: "Facture {number}",
    more: "Afficher plus",
  },
});

/** Amount, status and refunds of one payment (lists, and the patient's appointment cards). */
export function PaymentSummary({ payment: p }: { payment: Payment }) {
  const t = useT(strings);
  return (
    <span class="payment-summary" data-status={p.status}>
      <span class="payment-amount">{formatMoney(p.amount, p.currency)}</span>{" "}
      <span class={`badge badge-${p.status}`}>{t(p.status)}</span>
      {p.amount_refunded > 0 && p.status !== "refunded" && (
        <span> · {t("refundedPart", { amount: formatMoney(p.amount_refunded, p.currency) })}</span>
      )}
    </span>
  );
}

export function PaymentList({ load }: { load: (offset: number) => Promise<Page<Payment>> }) {
  const t = useT(strings);
  const [pages, setPages] = useState<Payment[]>([]);
  const first = useAsync(() => load(0).then((page) => (setPages(page.items), page)), []);
  const more = useAction(async () => {
    const page = await load(pages.length);
    setPages((all) => [...all, ...page.items]);
  });
  const invoice = useAction((payment: Payment) => downloadInvoice(payment));
  if (first.loading) return <Loading />;
  if (!first.data) return <ErrorView error={first.error} onRetry={first.reload} />;
  if (pages.length === 0) return <Empty>{t("none")}</Empty>;
  return (
    <>
      <ul class="payment-list">
        {pages.map((p) => (
          <li key={p.id} class="payment-item" data-status={p.status}>
            <PaymentSummary payment={p} />{" "}
            <span class="payment-date">{formatDateTime(p.completed_at ?? p.created_at)}</span>
            {p.invoice_number && (
              <Button variant="link" onClick={() => void invoice.run(p)}>
                {t("invoice", { number: p.invoice_number })}
              </Button>
            )}
          </li>
        ))}
      </ul>
      {pages.length < first.data.total && (
        <Button variant="secondary" onClick={() => void more.run()} busy={more.busy}>
          {t("more")}
        </Button>
      )}
      {(more.error || invoice.error) && <ErrorView error={more.error ?? invoice.error} />}
    </>
  );
}
