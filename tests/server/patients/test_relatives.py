"""My relatives (issue #24): consent on record, only the proxy's own relatives, the medical
history only when shared (a coded 403 otherwise), removal (refused while it would leave upcoming
appointments nobody hears of) and account erasure."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import Patient, make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import booked, doctor_with_availability, local

URL = "/api/v1/me/relatives"


def child(**extra: Any) -> dict[str, Any]:
    born = clock.now().date().replace(day=1, month=1).year - 7
    return {
        "first_name": "Léa",
        "last_name": "Martin",
        "date_of_birth": date(born, 3, 1).isoformat(),
        "relationship": "CHILD",
        "consent_basis": "legal_guardian",
        "consent_given": True,
        **extra,
    }


async def add(client: httpx.AsyncClient, proxy: Patient, **extra: Any) -> dict[str, Any]:
    answer = await client.post(URL, json=child(**extra), headers=proxy.user.headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def link(
    db: asyncpg.Connection,
    proxy: Patient,
    relative_id: str | uuid.UUID,
    *,
    revoked: bool = False,
    relationship: str = "CHILD",
    later: timedelta = timedelta(0),
) -> None:
    """A second proxy of the relative (as the API would make on a merge), or a revoked one;
    linked `later` than now (an order among the relative's proxies)."""
    now = clock.now() + later
    await db.execute(
        """INSERT INTO patients.relatives (proxy_user_id, relative_id, relationship,
                                           consent_basis, consent_at, consent_by, created_at,
                                           revoked_at)
           VALUES ($1, $2::uuid, $5, 'legal_guardian', $3, $1, $3, $4)""",
        proxy.user.id,
        str(relative_id),
        now,
        now if revoked else None,
        relationship,
    )


async def test_a_parent_adds_a_child_with_consent_on_record_and_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    assert lea["relationship"] == "CHILD" and lea["can_view_history"] is False
    assert lea["consent"]["basis"] == "legal_guardian"
    assert lea["consent"]["by"] == str(parent.user.id) and lea["has_own_login"] is False
    listed = (await client.get(URL, headers=parent.user.headers)).json()
    assert [r["id"] for r in listed] == [lea["id"]]
    row = await db.fetchrow(
        "SELECT user_id, first_name FROM patients.patients WHERE id = $1::uuid", lea["id"]
    )
    assert row["user_id"] is None and row["first_name"] == "Léa"
    audit = await db.fetch(
        "SELECT user_id, action, resource_id FROM audit.logs WHERE action LIKE 'POST %'"
    )
    assert [(a["user_id"], a["resource_id"]) for a in audit] == [(parent.user.id, lea["id"])]


async def test_consent_must_be_given_and_fit_the_age(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    cases = [
        (child(consent_given=False), "consent_required"),
        (child(consent_basis="self"), "minor_needs_guardian"),
        (
            child(relationship="MTH", date_of_birth="1950-05-05", consent_basis="legal_guardian"),
            "guardian_for_minors_only",
        ),
        (child(relationship="COUSIN"), "literal_error"),
    ]
    for body, code in cases:
        answer = await client.post(URL, json=body, headers=parent.user.headers)
        assert answer.status_code == 422, answer.text
        assert code in [e["code"] for e in answer.json()["errors"]], answer.text
    assert await db.fetchval("SELECT count(*) FROM patients.relatives") == 0
    mother = await add(
        client, parent, relationship="MTH", date_of_birth="1950-05-05", consent_basis="self"
    )
    assert mother["consent"]["basis"] == "self"


async def test_another_account_cannot_see_edit_or_remove_my_relative(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent, stranger = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, parent)
    for method, path in [
        ("GET", f"{URL}/{lea['id']}"),
        ("PUT", f"{URL}/{lea['id']}"),
        ("DELETE", f"{URL}/{lea['id']}"),
        ("GET", f"/api/v1/patients/{lea['id']}"),
        ("GET", f"/api/v1/patients/{lea['id']}/medical-history"),
    ]:
        body = {"first_name": "X"} if method == "PUT" else None
        answer = await client.request(method, path, json=body, headers=stranger.user.headers)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await client.get(URL, headers=stranger.user.headers)).json() == []
    doctor = await make_doctor(db, settings)
    assert (await client.get(URL, headers=doctor.user.headers)).status_code == 403
    assert (await client.get(f"{URL}/{lea['id']}", headers=parent.user.headers)).status_code == 200


async def test_the_history_is_shown_to_the_proxy_only_when_shared(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    mother = await add(
        client, parent, relationship="MTH", date_of_birth="1950-05-05", consent_basis="self"
    )
    history = f"/api/v1/patients/{mother['id']}/medical-history"
    refused = await client.get(history, headers=parent.user.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "history-not-shared"
    profile = await client.get(f"/api/v1/patients/{mother['id']}", headers=parent.user.headers)
    assert profile.status_code == 200 and profile.json()["first_name"] == "Léa"
    shared = await client.put(
        f"{URL}/{mother['id']}", json={"can_view_history": True}, headers=parent.user.headers
    )
    assert shared.status_code == 200 and shared.json()["can_view_history"] is True
    misfit = await client.put(
        f"{URL}/{mother['id']}",
        json={"consent_basis": "legal_guardian", "consent_given": True},
        headers=parent.user.headers,
    )
    assert misfit.status_code == 422 and misfit.json()["code"] == "consent-misfit"
    assert [e["code"] for e in misfit.json()["errors"]] == ["guardian_for_minors_only"]
    kept = await client.put(
        f"{URL}/{mother['id']}",
        json={"first_name": None, "date_of_birth": None},
        headers=parent.user.headers,
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["first_name"] == "Léa" and kept.json()["date_of_birth"] is None
    written = await client.post(
        history, json={"condition": "Hypertension"}, headers=parent.user.headers
    )
    assert written.status_code == 201, written.text
    read = await client.get(history, headers=parent.user.headers)
    assert [e["condition"] for e in read.json()["items"]] == ["Hypertension"]
    audited = await db.fetch(
        """SELECT action, response_status FROM audit.logs
           WHERE resource_id = $1 AND action LIKE 'medical_history.%' ORDER BY seq""",
        mother["id"],
    )
    assert [(a["action"], a["response_status"]) for a in audited] == [
        ("medical_history.read", 403),
        ("medical_history.create", 200),
        ("medical_history.read", 200),
    ]
    actors = await db.fetch("SELECT user_id FROM audit.logs WHERE resource_id = $1", mother["id"])
    assert {a["user_id"] for a in actors} == {parent.user.id}


async def test_removing_a_relative_nobody_else_manages_erases_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    gone = await client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
    assert gone.status_code == 204
    assert (await client.get(URL, headers=parent.user.headers)).json() == []
    row = await db.fetchrow(
        "SELECT first_name, erased_at FROM patients.patients WHERE id = $1::uuid", lea["id"]
    )
    assert row["first_name"] == "Erased" and row["erased_at"] is not None
    revoked = await db.fetchval(
        "SELECT revoked_at FROM patients.relatives WHERE relative_id = $1::uuid", lea["id"]
    )
    assert revoked is not None


async def _state(db: asyncpg.Connection, relative_id: str) -> tuple[str, int]:
    """The relative's first name ("Erased" once erased) and how many live links they have."""
    row = await db.fetchrow(
        """SELECT p.first_name, count(l.id) AS links FROM patients.patients p
           LEFT JOIN patients.relatives l ON l.relative_id = p.id AND l.revoked_at IS NULL
           WHERE p.id = $1::uuid GROUP BY p.id""",
        relative_id,
    )
    return row["first_name"], row["links"]


async def test_removing_the_last_carer_of_a_relative_with_upcoming_visits_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    later = await booked(client, parent, doctor, local(doctor, 3, "10:00"), patient_id=lea["id"])
    sooner = await booked(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])

    refused = await client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "relative-has-upcoming-appointments"
    assert problem["params"] == {"count": 2}
    assert [a["id"] for a in problem["appointments"]] == [sooner["id"], later["id"]]
    assert problem["appointments"][0] | {"doctor_name": ""} == {
        "id": sooner["id"],
        "start": sooner["start"],
        "end": sooner["end"],
        "status": "scheduled",
        "visit_type": "in-person",
        "doctor_id": str(doctor.id),
        "doctor_name": "",
        "time_zone": doctor.time_zone,
    }
    assert problem["appointments"][0]["doctor_name"].startswith("Dr ")
    assert await _state(db, lea["id"]) == ("Léa", 1)  # nothing changed

    # Once they are cancelled, the relative goes (erased: nobody else manages them).
    for appointment in (sooner, later):
        cancelled = await client.post(
            f"/api/v1/appointments/{appointment['id']}/cancel", headers=parent.user.headers
        )
        assert cancelled.status_code == 200, cancelled.text
    gone = await client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
    assert gone.status_code == 204, gone.text
    assert await _state(db, lea["id"]) == ("Erased", 0)


async def test_removal_with_upcoming_visits_stays_allowed_when_someone_else_acts(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, mother)
    tom = await add(client, mother, first_name="Tom")
    await link(db, father, lea["id"])  # Léa's father manages her too
    own = await make_user(db, settings, "patient")  # Tom has grown up: his own login
    await db.execute(
        "UPDATE patients.patients SET user_id = $1 WHERE id = $2::uuid", own.id, tom["id"]
    )
    for relative, at in ((lea, "10:00"), (tom, "11:00")):
        await booked(client, mother, doctor, local(doctor, 2, at), patient_id=relative["id"])
        gone = await client.delete(f"{URL}/{relative['id']}", headers=mother.user.headers)
        assert gone.status_code == 204, gone.text
    assert await _state(db, lea["id"]) == ("Léa", 1)  # the father's link
    assert await _state(db, tom["id"]) == ("Tom", 0)
    # The father is now the last carer of Léa: his removal is refused.
    refused = await client.delete(f"{URL}/{lea['id']}", headers=father.user.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "relative-has-upcoming-appointments"


async def test_both_parents_removing_at_once_leave_one_of_them_acting(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    await booked(client, mother, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    answers = await asyncio.gather(
        *(
            client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
            for parent in (mother, father)
        )
    )
    assert sorted(a.status_code for a in answers) == [204, 409]
    assert await _state(db, lea["id"]) == ("Léa", 1)


async def test_erasing_the_account_erases_the_relatives_nobody_else_manages(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent, other_parent = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, parent)
    tom = await add(client, parent, first_name="Tom")
    await link(db, other_parent, tom["id"])  # Tom's other parent manages him too
    erased = await client.delete(f"/api/v1/patients/{parent.id}", headers=parent.user.headers)
    assert erased.status_code == 204, erased.text
    names = dict(
        await db.fetch(
            "SELECT id::text, first_name FROM patients.patients WHERE id = ANY($1::uuid[])",
            [lea["id"], tom["id"]],
        )
    )
    assert names == {lea["id"]: "Erased", tom["id"]: "Tom"}
    kept = (await client.get(URL, headers=other_parent.user.headers)).json()
    assert [r["id"] for r in kept] == [tom["id"]]


async def test_consent_errors_name_their_field_and_the_box_takes_only_true(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: on POST the consent refusals came at field "" (PUT names
    `consent_basis`), and `consent_given: "yes"` (or 1) was taken for the ticked box."""
    parent = await make_patient(db, settings)
    cases = [
        (child(consent_given=False), [("consent_given", "consent_required")]),
        (child(consent_given="yes"), [("consent_given", "bool_type")]),
        (child(consent_given=1), [("consent_given", "bool_type")]),
        (child(consent_basis="self"), [("consent_basis", "minor_needs_guardian")]),
        (
            child(date_of_birth="1950-05-05", relationship="MTH"),
            [("consent_basis", "guardian_for_minors_only")],
        ),
    ]
    for body, expected in cases:
        answer = await client.post(URL, json=body, headers=parent.user.headers)
        assert answer.status_code == 422, answer.text
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == expected, body
    lea = await add(client, parent)
    for body in (
        {"consent_basis": "legal_guardian"},
        {"consent_basis": "legal_guardian", "consent_given": "true"},
    ):
        answer = await client.put(f"{URL}/{lea['id']}", json=body, headers=parent.user.headers)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["consent_given"], answer.text
    assert await db.fetchval("SELECT count(*) FROM patients.relatives") == 1


async def test_consent_is_not_un_given_by_an_edit_but_by_removing_the_relative(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by testers: PUT `{"consent_given": false}` answered 200 and changed nothing."""
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    for body in ({"consent_given": False}, {"first_name": "Lou", "consent_given": False}):
        answer = await client.put(f"{URL}/{lea['id']}", json=body, headers=parent.user.headers)
        assert answer.status_code == 422, answer.text
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [
            ("consent_given", "consent_withdrawn_by_removal")
        ]
    kept = (await client.get(f"{URL}/{lea['id']}", headers=parent.user.headers)).json()
    assert kept["first_name"] == "Léa" and kept["consent"] == lea["consent"]
    # A new basis still asks for the box ticked again, whatever the value sent.
    answer = await client.put(
        f"{URL}/{lea['id']}",
        json={"consent_basis": "legal_guardian", "consent_given": False},
        headers=parent.user.headers,
    )
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [
        ("consent_given", "consent_required")
    ]
    assert (
        await client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
    ).status_code == 204
