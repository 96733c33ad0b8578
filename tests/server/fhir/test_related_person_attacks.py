"""FHIR RelatedPerson from outside: malformed, unknown and oversized ids and references are 4xx
OperationOutcomes (never a 500, never a REST problem body), and nobody outside the patient's
circle (a stranger, a revoked proxy, another patient, a doctor who never treated them) reads a
link, finds one in a search or in an Appointment."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import Patient, make_appointment, make_doctor, make_patient, make_user
from tests.server.fhir.test_fhir import BASE, valid
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import child
from tests.server.patients.test_relatives import link as link_proxy

pytestmark = pytest.mark.engines


async def _family(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> tuple[Patient, Patient, Patient, str, str]:
    """(parent, other parent, the child, the parent's link id, the other parent's link id)."""
    parent, other_parent = await make_patient(db, settings), await make_patient(db, settings)
    added = await client.post(RELATIVES, json=child(), headers=parent.user.headers)
    assert added.status_code == 201, added.text
    lea = Patient(parent.user, added.json()["id"])
    await link_proxy(db, other_parent, lea.id, relationship="DAU", later=timedelta(seconds=1))
    link = await db.fetchval(
        "SELECT id FROM patients.relatives WHERE relative_id = $1 AND proxy_user_id = $2",
        lea.id,
        parent.user.id,
    )
    other_link = await db.fetchval(
        "SELECT id FROM patients.relatives WHERE relative_id = $1 AND proxy_user_id = $2",
        lea.id,
        other_parent.user.id,
    )
    return parent, other_parent, lea, str(link), str(other_link)


@pytest.mark.parametrize(
    "raw",
    [
        "not-an-id",
        "0",
        "x" * 5000,
        "%00",
        "%01%02",
        "%E2%80%8B",
        "00000000-0000-0000-0000-00000000000%00",
        str(uuid.UUID(int=0)),
        "6853b611-3d7b-42f8-8bfc-b159f0af84a9",
        "%F0%9F%98%80",
    ],
)
async def test_a_malformed_or_unknown_id_is_a_404_outcome(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, raw: str
) -> None:
    parent = await make_patient(db, settings)
    refused = valid(
        await client.get(f"{BASE}/RelatedPerson/{raw}", headers=parent.user.headers), 404
    )
    assert refused["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize(
    ("patient", "status"),
    [
        ("", 422),
        ("Patient/", 404),
        ("Patient/not-an-id", 404),
        ("Practitioner/3a9a8777-0038-4e2d-b217-b3e3d99b5f37", 404),
        ("Patient/%00", 404),
        ("Patient/64d15b41-cfe8-4b09-89f1-cc17f1ed4986", 404),
        ("\x01\x02", 404),
    ],
)
async def test_a_bad_patient_reference_is_a_4xx_outcome(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, patient: str, status: int
) -> None:
    parent = await make_patient(db, settings)
    valid(
        await client.get(
            f"{BASE}/RelatedPerson", params={"patient": patient}, headers=parent.user.headers
        ),
        status,
    )


async def test_a_query_refused_by_its_own_checks_is_an_outcome_not_a_rest_problem(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """FHIR clients read OperationOutcomes, for a `patient` over 100 characters or a `_count`
    of 0 too (they were application/problem+json bodies)."""
    parent = await make_patient(db, settings)
    too_long = {"patient": "Patient/" + "a" * 200}
    refused = valid(
        await client.get(f"{BASE}/RelatedPerson", params=too_long, headers=parent.user.headers),
        422,
    )
    assert refused["issue"][0]["code"] == "invalid"
    assert refused["issue"][0]["details"]["coding"][0]["code"] == "/problems/invalid-input"
    no_count = {"patient": f"Patient/{parent.id}", "_count": "0"}
    valid(
        await client.get(f"{BASE}/Appointment", params=no_count, headers=parent.user.headers), 422
    )


@pytest.mark.parametrize(
    "path", ["RelatedPerson/a/b", "RelatedPerson/..%2F..%2Fmetadata", "Nope", "", "Patient/"]
)
async def test_an_unknown_fhir_path_is_a_404_outcome(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, path: str
) -> None:
    parent = await make_patient(db, settings)
    refused = valid(await client.get(f"{BASE}/{path}", headers=parent.user.headers), 404)
    assert refused["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "Patient", None),
        ("DELETE", "RelatedPerson/6853b611-3d7b-42f8-8bfc-b159f0af84a9", "GET"),
        ("PUT", "metadata", "GET"),
        ("POST", "Appointment", "GET"),
    ],
)
async def test_a_wrong_method_is_an_outcome_naming_the_allowed_ones(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    method: str,
    path: str,
    allowed: str | None,
) -> None:
    parent = await make_patient(db, settings)
    answer = await client.request(
        method, f"{BASE}/{path}", json={"resourceType": "Patient"}, headers=parent.user.headers
    )
    if allowed is None:  # no read or search of this path at all
        assert valid(answer, 404)["issue"][0]["code"] == "not-found"
        return
    assert valid(answer, 405)["issue"][0]["details"]["text"] == "method-not-allowed"
    assert answer.headers["allow"].startswith(allowed)


async def test_rest_answers_outside_fhir_stay_problems(client: httpx.AsyncClient) -> None:
    for answer in (
        await client.get("/api/v1/nope"),
        await client.get("/fhir/R5/Patient"),
        await client.delete("/api/v1/specializations"),
    ):
        assert answer.status_code in (404, 405), answer.text
        assert answer.headers["content-type"] == "application/problem+json", answer.text


async def test_nobody_outside_the_circle_reads_searches_or_sees_it_in_an_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent, other_parent, lea, link, other_link = await _family(client, db, settings)
    doctor, cancelled_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    held_doctor, stranger = await make_doctor(db, settings), await make_patient(db, settings)
    visit = await make_appointment(
        db, doctor, lea, clock.now() + timedelta(days=2), created_by=parent.user.id
    )
    # Doctors whose only appointments with her were cancelled, or are a hold: not treating her.
    await make_appointment(
        db,
        cancelled_doctor,
        lea,
        clock.now() + timedelta(days=3),
        status="cancelled",
        created_by=parent.user.id,
    )
    await make_appointment(
        db,
        held_doctor,
        lea,
        clock.now() + timedelta(days=4),
        status="held",
        created_by=parent.user.id,
        hold_expires_at=clock.now() + timedelta(minutes=10),
    )
    search = {"patient": f"Patient/{lea.id}"}
    outsiders = {
        "stranger": stranger.user.headers,
        "cancelled doctor": cancelled_doctor.user.headers,
        "held doctor": held_doctor.user.headers,
    }
    for who, headers in outsiders.items():
        for link_id in (link, other_link):
            answer = await client.get(f"{BASE}/RelatedPerson/{link_id}", headers=headers)
            assert answer.status_code == 404, (who, answer.text)
            valid(answer, 404)
        answer = await client.get(f"{BASE}/RelatedPerson", params=search, headers=headers)
        assert answer.status_code == 404, (who, answer.text)
        answer = await client.get(f"{BASE}/Appointment/{visit}", headers=headers)
        assert answer.status_code == 404, (who, answer.text)
        assert link not in answer.text

    # The parent stops managing her (the other parent goes on): her link is hers to read, but
    # the child's other link, the appointment and its booker are no longer hers to see.
    gone = await client.delete(f"{RELATIVES}/{lea.id}", headers=parent.user.headers)
    assert gone.status_code == 204, gone.text
    own = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))
    assert own["active"] is False
    valid(await client.get(f"{BASE}/RelatedPerson/{other_link}", headers=parent.user.headers), 404)
    seen = valid(
        await client.get(f"{BASE}/RelatedPerson", params=search, headers=parent.user.headers)
    )
    assert [e["resource"]["id"] for e in seen["entry"]] == [link]
    answer = await client.get(f"{BASE}/Appointment/{visit}", headers=parent.user.headers)
    assert answer.status_code in (403, 404), answer.text
    valid(answer, answer.status_code)
    listed = await client.get(
        f"{BASE}/Appointment", params={"patient": f"Patient/{lea.id}"}, headers=parent.user.headers
    )
    assert listed.status_code in (403, 404), listed.text
    valid(listed, listed.status_code)
    # The other parent sees both links, active and revoked, as does her doctor.
    for overseer in (doctor.user.headers,):
        both = valid(await client.get(f"{BASE}/RelatedPerson", params=search, headers=overseer))
        assert sorted(e["resource"]["id"] for e in both["entry"]) == sorted([link, other_link])
    mine = valid(
        await client.get(f"{BASE}/RelatedPerson", params=search, headers=other_parent.user.headers)
    )
    assert [e["resource"]["id"] for e in mine["entry"]] == [other_link]


async def test_an_admin_without_a_recent_step_up_reads_no_link_and_is_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    _, _, lea, link, _ = await _family(client, db, settings)
    admin = await make_user(db, settings, "admin")
    await db.execute(
        "UPDATE auth.sessions SET reauthenticated_at = NULL WHERE id = $1", admin.session_id
    )
    answer = await client.get(f"{BASE}/RelatedPerson/{link}", headers=admin.headers)
    assert answer.status_code == 403, answer.text
    valid(answer, 403)
    answer = await client.get(
        f"{BASE}/RelatedPerson", params={"patient": f"Patient/{lea.id}"}, headers=admin.headers
    )
    assert answer.status_code == 403, answer.text
    valid(answer, 403)
    refusals = await db.fetch(
        """SELECT action, resource_id FROM audit.logs
           WHERE user_id = $1 AND response_status = 403""",
        admin.id,
    )
    # Refused reads of health data are audited, as the REST reads' are (server.patients.access).
    assert sorted((r["action"], r["resource_id"]) for r in refusals) == sorted(
        [("related_person.read", link), ("related_person.read", str(lea.id))]
    )


@pytest.mark.parametrize(
    "relationship",
    [
        "CHILD", "SON", "DAU", "STPCHLD", "FTH", "MTH", "PRN", "GRPRN", "GRNDCHILD", "SIB",
        "SPS", "HUSB", "WIFE", "DOMPART", "FAMMEMB", "GUARD", "NOK",
    ],
)  # fmt: skip
async def test_every_stored_relationship_validates(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, relationship: str
) -> None:
    parent, _, _, link, _ = await _family(client, db, settings)
    await db.execute(
        "UPDATE patients.relatives SET relationship = $2 WHERE id = $1",
        uuid.UUID(link),
        relationship,
    )
    valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))


def _printable(text: str) -> bool:
    return not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text)


@pytest.mark.parametrize("name", ["Ana\x0bBel", "Ana\x1fBel", "Ana\x01"])
async def test_a_proxy_named_with_control_characters_is_refused_or_shown_without_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, name: str
) -> None:
    parent, _, _, link, _ = await _family(client, db, settings)
    changed = await client.put(
        f"/api/v1/patients/{parent.id}", json={"first_name": name}, headers=parent.user.headers
    )
    if changed.status_code == 422:
        return  # refused at the door
    assert changed.status_code == 200, changed.text
    shown = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))
    given = shown["name"][0]["given"][0]
    assert _printable(given), repr(given)


async def test_names_stored_before_the_rule_come_out_without_control_characters(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent, _, lea, link, _ = await _family(client, db, settings)
    await db.execute(
        "UPDATE patients.patients SET first_name = $2, last_name = $3 WHERE id = $1",
        parent.id,
        "Ana\x0bBel",
        "\x01Martin\tFils",
    )
    await db.execute(
        "UPDATE patients.patients SET first_name = 'L\x1fa' WHERE id = $1", uuid.UUID(lea.id)
    )
    related = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))
    assert related["name"][0]["given"] == ["Ana\ufffdBel"]
    assert related["name"][0]["family"] == "\ufffdMartin\tFils"  # a tab is a FHIR string's
    own = valid(await client.get(f"{BASE}/Patient/{parent.id}", headers=parent.user.headers))
    assert own["name"][0]["given"] == ["Ana\ufffdBel"]
    child = valid(await client.get(f"{BASE}/Patient/{lea.id}", headers=parent.user.headers))
    assert child["name"][0]["given"] == ["L\ufffda"]
    search = valid(
        await client.get(
            f"{BASE}/RelatedPerson",
            params={"patient": f"Patient/{lea.id}"},
            headers=parent.user.headers,
        )
    )
    assert all(
        _printable(given)
        for entry in search["entry"]
        for given in entry["resource"]["name"][0]["given"]
    )
