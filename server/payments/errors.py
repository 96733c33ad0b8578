"""What a payment request can run into: problem types, and the reasons (codes) raised with them."""

from __future__ import annotations

from server.errors import Conflict, FieldCode, MarkiniError, Reason, ServiceUnavailable


class PaymentsOff(Conflict):
    title = "Payments are off"
    type = "/problems/payments-off"


class HoldNotOpen(Conflict):
    """The appointment is not a hold waiting for its payment (expired, paid or cancelled)."""

    title = "Nothing to pay"
    type = "/problems/hold-not-open"


class RefundRefused(Conflict):
    title = "Refund refused"
    type = "/problems/refund-refused"


class PaymentDeclined(MarkiniError):
    """The card was declined or could not be used; `decline_code` says why (Stripe's code)."""

    status = 402
    title = "Payment declined"
    type = "/problems/payment-declined"


class BadSignature(MarkiniError):
    status = 400
    title = "Bad webhook signature"
    type = "/problems/bad-signature"


class GatewayUnavailable(ServiceUnavailable):
    title = "Payment provider unavailable"
    type = "/problems/payment-provider-unavailable"


PAYMENTS_DISABLED = Reason("payments-disabled", "Payments are not enabled on this server.")
NO_SUCH_PAYMENT = Reason("no-such-payment", "No such payment.")
NO_INVOICE = Reason("no-invoice", "This payment has no invoice.")
PATIENT_PAYS = Reason("patient-pays", "Only the patient pays for an appointment.")
OWN_PAYMENTS = Reason(
    "own-payments", "Only the payer, the doctor paid or an admin can list these payments."
)
ADMINS_READ_REVENUE = Reason("admins-read-revenue", "Only admins read the revenue.")
REFUND_BY_CANCELLING = Reason(
    "refund-by-cancelling", "Patients are refunded by cancelling their appointment."
)
# HoldNotOpen
NOT_WAITING_FOR_PAYMENT = Reason(
    "not-waiting-for-payment", "This appointment is not waiting for payment: book the slot again."
)
PAYMENT_UNDER_WAY = Reason(
    "payment-under-way", "A payment for this appointment is already under way."
)
PREVIOUS_STILL_PROCESSING = Reason(
    "previous-payment-processing", "The previous payment is still being processed."
)
ALREADY_PAID = Reason("already-paid", "This appointment is already paid.")
NOTHING_TO_PAY = Reason("nothing-to-pay", "This appointment has nothing to pay.")
# InvalidInput
FEE_DIFFERS = Reason("fee-differs", "The amount differs from the appointment's fee.")
FEE_AMOUNT = FieldCode("fee_amount", "the fee is {fee} (minor units)")
FEE_CURRENCY = FieldCode("fee_currency", "the fee is in {currency}")
# PaymentDeclined (`decline_code` carries Stripe's code, which the web app puts in words)
CARD_DECLINED = Reason("card-declined", "The card was declined.")
CARD_UNUSABLE = Reason("card-unusable", "This card cannot be used; check it or try another.")
# RefundRefused
REFUND_UNPAID = Reason("refund-unpaid", "Only a completed payment can be refunded.")
REFUND_TOO_MUCH = Reason("refund-too-much", "At most {left} (minor units) is left to refund.")
REFUND_PROVIDER_REFUSED = Reason(
    "refund-provider-refused", "The payment provider refused the refund."
)
PROVIDER_UNREACHABLE = Reason(
    "provider-unreachable", "The payment provider cannot be reached; try again."
)
SIGNATURE_MISMATCH = Reason(
    "signature-mismatch", "The Stripe-Signature header does not match this payload."
)
