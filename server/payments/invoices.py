"""Invoice PDFs (fpdf2), in the patient's language, rendered from the stored payment.

The number is given once, when the payment completes (storage.payments.number_invoice, gapless
per practice and year); the PDF is drawn again on each download from the same stored facts.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
from fpdf import FPDF

# Stripe's zero-decimal currencies: their minor unit is the unit itself.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Invoice",
        "number": "Invoice number",
        "issued": "Issued",
        "patient": "Patient",
        "doctor": "Practitioner",
        "service": "Service",
        "visit": "Consultation on",
        "in-person": "in person",
        "teleconsultation": "video consultation",
        "amount": "Amount paid",
        "tax": "of which tax",
        "refunded": "Refunded",
        "reference": "Payment reference",
        "method": "Paid by",
        "card": "card",
    },
    "fr": {
        "title": "Facture",
        "number": "Numéro de facture",
        "issued": "Émise le",
        "patient": "Patient",
        "doctor": "Praticien",
        "service": "Prestation",
        "visit": "Consultation du",
        "in-person": "au cabinet",
        "teleconsultation": "téléconsultation",
        "amount": "Montant payé",
        "tax": "dont TVA",
        "refunded": "Remboursé",
        "reference": "Référence du paiement",
        "method": "Payé par",
        "card": "carte",
    },
}


def money(minor: int, currency: str, language: str) -> str:
    """ "40.50 EUR" / "40,50 EUR" (ISO code: the PDF core fonts have no euro sign)."""
    code = currency.lower()
    text = str(minor) if code in ZERO_DECIMAL else f"{minor / 100:.2f}"
    if language == "fr":
        text = text.replace(".", ",")
    return f"{text} {code.upper()}"


def latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1 (French included); other letters print as "?"."""
    return text.encode("latin-1", "replace").decode("latin-1")


def tax_included(amount: int, percent: float) -> int:
    """The tax inside a tax-inclusive amount, in minor units."""
    return round(amount * percent / (100 + percent)) if percent else 0


def render_invoice(row: asyncpg.Record, tax_percent: float) -> bytes:
    """The invoice of one completed payment (storage.payments.invoice_details) as PDF bytes."""
    language = row["language"] if row["language"] in LABELS else "en"
    label = LABELS[language]
    zone = ZoneInfo(row["time_zone"])
    start: datetime = row["start_at"].astimezone(zone)
    issued: datetime = row["issued_at"].astimezone(zone)
    currency = row["currency"]
    service = row["reason_name"] or label["title"]
    lines = [
        (label["number"], row["invoice_number"]),
        (label["issued"], issued.strftime("%Y-%m-%d")),
        (label["patient"], f"{row['patient_first_name']} {row['patient_last_name']}"),
        (label["doctor"], f"Dr {row['doctor_first_name']} {row['doctor_last_name']}"),
        ("", ", ".join(p for p in (row["address_line"], row["city"]) if p)),
        (label["service"], service),
        (
            label["visit"],
            f"{start.strftime('%Y-%m-%d %H:%M')} ({label.get(row['visit_type'], '')})",
        ),
        (label["amount"], money(row["amount"], currency, language)),
        (
            f"{label['tax']} ({tax_percent:g} %)",
            money(tax_included(row["amount"], tax_percent), currency, language),
        ),
        (label["method"], label["card"]),
        (label["reference"], row["transaction_id"] or ""),
    ]
    if row["amount_refunded"]:
        lines.append((label["refunded"], money(row["amount_refunded"], currency, language)))
    pdf = FPDF(format="A4")
    pdf.set_title(f"{label['title']} {row['invoice_number']}")
    pdf.set_creator("Markini")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(
        0, 12, latin1(f"{label['title']} {row['invoice_number']}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    for name, value in lines:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(60, 8, latin1(name))
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 8, latin1(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
