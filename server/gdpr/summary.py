"""The export's readable summary: one self-contained HTML page (print it to PDF if needed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border:1px solid
#ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}h2{margin-top:2rem}"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_SENT_COLUMNS = ("created_at", "channel", "recipient", "subject", "body", "status")


def summary_html(data: dict[str, Any]) -> str:
    profile = data["profile"]
    name = f"{profile['first_name']} {profile['last_name']}"
    notifications = data["notifications"]
    sections = [
        "<h2>Profile</h2>",
        _table(
            ["Field", "Value"],
            [
                ("Name", name),
                ("Email", data["account"]["email"]),
                ("Date of birth", profile.get("date_of_birth")),
                ("Phone", profile.get("phone")),
                ("Account created", data["account"]["created_at"]),
            ],
        ),
        "<h2>Medical history</h2>",
        _table(
            ["Condition", "Diagnosed", "Notes", "Written by"],
            [
                (e["condition"], e["diagnosis_date"], e["notes"], e["written_by"])
                for e in data["medical_history"]
            ],
        ),
        "<h2>Appointments</h2>",
        _table(
            ["Start", "Doctor", "Type", "Status", "Reason", "Notes"],
            [
                (
                    a["start"],
                    a["doctor"]["name"],
                    a["visit_type"],
                    a["status"],
                    a["reason"],
                    a["notes"],
                )
                for a in data["appointments"]
            ],
        ),
        "<h2>Payments</h2>",
        _table(
            ["Date", "Amount", "Refunded", "Currency", "Status", "Invoice"],
            [
                (
                    p["created_at"],
                    p["amount"],
                    p["amount_refunded"],
                    p["currency"],
                    p["status"],
                    p["invoice_number"],
                )
                for p in data["payments"]
            ],
        ),
        "<h2>Notifications sent to you</h2>",
        _table(
            ["Date", "Channel", "To", "Subject", "Message", "Status"],
            [tuple(m[k] for k in _SENT_COLUMNS) for m in notifications["sent"]]
            + [
                (n["created_at"], "in-app", "", n["title"], n["body"], n["read_at"] and "read")
                for n in notifications["in_app"]
            ],
        ),
        "<h2>Messages</h2>",
        _table(
            ["Sent", "From", "Message"],
            [(m["sent_at"], m["from"], m["body"]) for m in data["messages"]],
        ),
        "<h2>Who accessed your data</h2>",
        _table(
            ["When", "Who", "What", "Record", "Outcome"],
            [(e["at"], e["by"], e["action"], e["record"], e["status"]) for e in data["access_log"]],
        ),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Markini data export: {escape(name)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Your Markini data</h1><p>Generated {escape(data['generated_at'])}.</p>"
        + "".join(sections)
        + "</body></html>"
    )
