"""Payments: Stripe PaymentIntents for held appointments, refunds, webhooks and invoices."""
