"""What a payment request can run into, as problem types."""

from __future__ import annotations

from server.errors import Conflict, MarkiniError, ServiceUnavailable


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
