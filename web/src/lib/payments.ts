// Payments: the checkout's Stripe.js (or the embedded localstripe's stand-in), paying a held
// appointment, reading payments and downloading invoices.
import { api, apiBlob, newIdempotencyKey } from "./api";
import type { Page } from "./types";

export type PaymentStatus = "pending" | "completed" | "failed" | "refunded";

export interface Payment {
  id: string;
  appointment_id: string;
  patient_id: string;
  doctor_id: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  amount_refunded: number;
  payment_method: string | null;
  transaction_id: string | null;
  failure_code: string | null;
  failure_message: string | null;
  refund_cutoff_hours: number;
  late_refund_percent: number;
  invoice_number: string | null;
  invoice_url: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  next_action: "authenticate" | null;
  client_secret: string | null;
}

interface CheckoutConfig {
  publishable_key: string;
  js_url: string;
}

/** The bits of Stripe.js the checkout uses (the real one and localstripe's stand-in agree). */
export interface CardElement {
  mount(target: HTMLElement): void;
  destroy(): void;
}
/** A Stripe.js error: `code` (e.g. incorrect_number, card_declined) and, for declines, the bank's
 * `decline_code` (insufficient_funds, ...). Its `message` is English only: pages word the codes. */
export interface StripeJsError {
  code?: string;
  decline_code?: string;
  message?: string;
}
export interface StripeJs {
  elements(): { create(type: "card", options?: unknown): CardElement };
  createToken(card: CardElement): Promise<{ token?: { id: string }; error?: StripeJsError }>;
  confirmCardPayment(clientSecret: string): Promise<{ paymentIntent?: { status: string }; error?: StripeJsError }>;
}

declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeJs;
  }
}

let loading: Promise<StripeJs> | null = null;

/** Load Stripe.js once from the URL the server names (CSP allows that origin only). */
export function loadStripe(): Promise<StripeJs> {
  loading ??= api<CheckoutConfig>("/payments/config").then(
    (config) =>
      new Promise<StripeJs>((resolve, reject) => {
        const ready = () => (window.Stripe ? resolve(window.Stripe(config.publishable_key)) : reject(new Error("Stripe.js")));
        if (window.Stripe) return ready();
        const script = document.createElement("script");
        script.src = config.js_url;
        script.onload = ready;
        script.onerror = () => reject(new Error("Stripe.js could not be loaded"));
        document.head.appendChild(script);
      }),
  );
  loading.catch(() => (loading = null));
  return loading;
}

export interface PaymentRequest {
  appointment_id: string;
  payment_method: string;
  amount: number;
  currency: string;
  language: "en" | "fr";
}

export const createPayment = (body: PaymentRequest): Promise<Payment> =>
  api<Payment>("/payments", { method: "POST", body, idempotencyKey: newIdempotencyKey() });

export const getPayment = (id: string, signal?: AbortSignal): Promise<Payment> =>
  api<Payment>(`/payments/${id}`, signal ? { signal } : {});

export const patientPayments = (patientId: string, offset = 0, limit = 20): Promise<Page<Payment>> =>
  api<Page<Payment>>(`/payments/patient/${patientId}`, { query: { limit, offset } });

export const doctorPayments = (doctorId: string, offset = 0, appointmentId?: string): Promise<Page<Payment>> =>
  api<Page<Payment>>(`/payments/doctor/${doctorId}`, { query: { limit: 20, offset, appointment_id: appointmentId } });

/** Save the invoice PDF (fetched with the session's token, then handed to the browser). */
export async function downloadInvoice(payment: Payment): Promise<void> {
  const blob = await apiBlob(`/payments/${payment.id}/invoice`);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${payment.invoice_number ?? "invoice"}.pdf`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
