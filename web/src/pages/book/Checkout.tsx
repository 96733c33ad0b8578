// Pay for a held slot: the hold's countdown, the card (Stripe.js, or the embedded localstripe's
// stand-in), card errors in plain words, 3-D Secure when the card asks for it.
import { useEffect, useRef, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert, Loading } from "../../components/Status";
import { ApiError, NetworkError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { locale, useT } from "../../lib/i18n";
import { formatMoney } from "../../lib/money";
import { createPayment, getPayment, loadStripe, type CardElement, type Payment, type StripeJs } from "../../lib/payments";
import type { Appointment } from "../../lib/types";
import { common } from "../../lib/strings";
import { strings } from "./strings";

type Stage = "card" | "paying" | "authenticating" | "confirming";
// After 3-D Secure the webhook settles the payment: look every half second, for a minute.
const POLL_MS = 500;
const POLL_TRIES = 120;

type DeclineWords = Extract<keyof (typeof strings)["en"], `decline_${string}`>;
// Stripe's card error and decline codes (Stripe.js, the 402's `decline_code`, a failed payment's
// `failure_code`) → plain words; a bank's reason that is none of the patient's business (lost,
// stolen, fraudulent) reads as a plain decline.
const DECLINE_WORDS: Record<string, DeclineWords> = {
  card_declined: "decline_card_declined",
  generic_decline: "decline_card_declined",
  do_not_honor: "decline_card_declined",
  lost_card: "decline_card_declined",
  stolen_card: "decline_card_declined",
  pickup_card: "decline_card_declined",
  fraudulent: "decline_card_declined",
  insufficient_funds: "decline_insufficient_funds",
  expired_card: "decline_expired_card",
  incorrect_cvc: "decline_incorrect_cvc",
  invalid_cvc: "decline_incorrect_cvc",
  incomplete_cvc: "decline_incorrect_cvc",
  incorrect_number: "decline_incorrect_number",
  invalid_number: "decline_incorrect_number",
  incomplete_number: "decline_incorrect_number",
  invalid_expiry_month: "decline_invalid_expiry",
  invalid_expiry_year: "decline_invalid_expiry",
  incomplete_expiry: "decline_invalid_expiry",
  card_not_supported: "decline_card_not_supported",
  currency_not_supported: "decline_card_not_supported",
  processing_error: "decline_processing_error",
  payment_intent_authentication_failure: "decline_payment_intent_authentication_failure",
};

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
  const tc = useT(common);
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

  /** Plain words for a card error or decline code; `fallback` for a code we do not word. */
  const declined = (code: unknown, fallback: "decline_other" | "cardInvalid" = "decline_other"): string => {
    const key = typeof code === "string" ? DECLINE_WORDS[code] : undefined;
    return t(key ?? fallback);
  };

  const pay = async () => {
    if (!stripe || !card) return;
    setProblem(null);
    setStage("paying");
    try {
      const { token, error } = await stripe.createToken(card);
      if (!token) {
        setProblem(declined(error?.decline_code ?? error?.code, "cardInvalid"));
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
          setProblem(declined(result.error?.decline_code ?? result.error?.code ?? "payment_intent_authentication_failure"));
          return;
        }
        setStage("confirming");
        payment = await settled(payment.id);
      }
      if (payment.status === "completed") onPaid(payment);
      else setProblem(declined(payment.failure_code));
    } catch (error) {
      // A decline by its code; any other refusal (hold over, provider down...) by its problem code.
      if (error instanceof ApiError && error.status === 402) setProblem(declined(error.problem.decline_code));
      else if (error instanceof NetworkError) setProblem(t("offline"));
      else setProblem(errorMessage(error, tc));
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
