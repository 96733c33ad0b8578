// Pay for a held slot: the hold's countdown, the card (Stripe.js, or the embedded localstripe's
// stand-in), card errors in plain words, 3-D Secure when the card asks for it.
import { useEffect, useRef, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert, Loading } from "../../components/Status";
import { ApiError, NetworkError } from "../../lib/api";
import { locale, useT } from "../../lib/i18n";
import { formatMoney } from "../../lib/money";
import { createPayment, getPayment, loadStripe, type CardElement, type Payment, type StripeJs } from "../../lib/payments";
import type { Appointment } from "../../lib/types";
import { strings } from "./strings";

type Stage = "card" | "paying" | "authenticating" | "confirming";
// After 3-D Secure the webhook settles the payment: look every half second, for a minute.
const POLL_MS = 500;
const POLL_TRIES = 120;

/** Seconds left until `until`, ticking every second (0 once past). */
function useCountdown(until: string | null): number {
  const left = () => (until ? Math.max(0, Math.ceil((Date.parse(until) - Date.now()) / 1000)) : 0);
  const [seconds, setSeconds] = useState(left);
  useEffect(() => {
    const timer = setInterval(() => setSeconds(left()), 1000);
    return () => clearInterval(timer);
  }, [until]);
  return seconds;
}

export function Checkout({ appointment, onPaid }: { appointment: Appointment; onPaid: (payment: Payment) => void }) {
  const t = useT(strings);
  const mount = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<StripeJs | null>(null);
  const [card, setCard] = useState<CardElement | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [stage, setStage] = useState<Stage>("card");
  const [problem, setProblem] = useState<string | null>(null);
  const seconds = useCountdown(appointment.hold_expires_at);

  useEffect(() => {
    let element: CardElement | null = null;
    loadStripe().then(
      (js) => {
        if (!mount.current) return;
        element = js.elements().create("card");
        element.mount(mount.current);
        setStripe(js);
        setCard(element);
      },
      () => setLoadFailed(true),
    );
    return () => element?.destroy();
  }, []);

  const declined = (code: string | null | undefined): string => {
    const key = `decline_${code ?? ""}`;
    return key in strings.en ? t(key as keyof typeof strings.en) : t("decline_other");
  };

  const pay = async () => {
    if (!stripe || !card) return;
    setProblem(null);
    setStage("paying");
    try {
      const { token, error } = await stripe.createToken(card);
      if (!token) {
        setProblem(error?.code === "card_declined" ? declined(error.code) : t("cardInvalid"));
        return;
      }
      let payment = await createPayment({
        appointment_id: appointment.id,
        payment_method: token.id,
        amount: appointment.fee,
        currency: appointment.currency,
        language: locale.value,
      });
      if (payment.next_action === "authenticate" && payment.client_secret) {
        setStage("authenticating");
        const result = await stripe.confirmCardPayment(payment.client_secret);
        if (result.error || result.paymentIntent?.status === "requires_payment_method") {
          setProblem(declined("payment_intent_authentication_failure"));
          return;
        }
        setStage("confirming");
        payment = await settled(payment.id);
      }
      if (payment.status === "completed") onPaid(payment);
      else setProblem(declined(payment.failure_code));
    } catch (error) {
      if (error instanceof ApiError && error.status === 402) setProblem(declined(String(error.problem.decline_code)));
      else if (error instanceof ApiError && error.status === 409) setProblem(error.problem.detail ?? t("expired"));
      else if (error instanceof NetworkError) setProblem(t("offline"));
      else setProblem(t("decline_other"));
    } finally {
      setStage("card");
    }
  };

  if (seconds <= 0 && stage === "card") {
    return (
      <Alert tone="warning">
        <p>{t("expired")}</p>
        <a href={`/doctors/${appointment.doctor_id}`}>{t("change")}</a>
      </Alert>
    );
  }
  const minutes = Math.floor(seconds / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return (
    <section class="card narrow checkout" aria-labelledby="checkout-title">
      <h1 id="checkout-title">{t("payTitle")}</h1>
      <p class="hold-countdown" role="timer" aria-live="off">
        {t("holdLeft", { time: `${minutes}:${rest}` })}
      </p>
      <p>{t("payAmount", { amount: formatMoney(appointment.fee, appointment.currency) })}</p>
      {loadFailed && <Alert>{t("stripeFailed")}</Alert>}
      {!stripe && !loadFailed && <Loading />}
      <div class="field">
        <span id="card-label">{t("card")}</span>
        <div ref={mount} class="card-element" role="group" aria-labelledby="card-label" />
      </div>
      {problem && <Alert>{problem}</Alert>}
      {stage === "confirming" && <Loading label={t("confirmingPayment")} />}
      <Button onClick={() => void pay()} busy={stage !== "card"} busyLabel={t("paying")} disabled={!card}>
        {t("payButton", { amount: formatMoney(appointment.fee, appointment.currency) })}
      </Button>
    </section>
  );
}

async function settled(paymentId: string): Promise<Payment> {
  for (let i = 0; i < POLL_TRIES; i++) {
    const payment = await getPayment(paymentId);
    if (payment.status !== "pending") return payment;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return getPayment(paymentId);
}
