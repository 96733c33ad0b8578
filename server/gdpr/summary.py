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


def summary_html(data: dict[str, Any]) -> str:
    profile = data["profile"]
    name = f"{profile['first_name']} {profile['last_name']}"
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
            ["Date", "Amount", "Currency", "Status"],
            [
                (p.get("created_at"), p.get("amount"), p.get("currency"), p.get("status"))
                for p in data["payments"]
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
