"""FHIR RelatedPerson: the proxy links of issue #24 (patients.relatives) read by id and
searched by patient, with the REST rules: a proxy sees their own links, the relative's doctor
(and the relative) all of them, anyone else a 404 OperationOutcome (audited); a revoked link is
inactive. An appointment booked by a proxy names them as a participant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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

ROLE_CODES = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"]]


async def test_proxies_see_their_links_doctors_all_strangers_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    other_parent, stranger = await make_patient(db, settings), await make_patient(db, settings)
    doctor, other_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    added = await client.post(RELATIVES, json=child(), headers=parent.user.headers)
    assert added.status_code == 201, added.text
    lea = Patient(parent.user, added.json()["id"])
    # A second proxy of the same child (the other parent, who says she is their daughter).
    await link_proxy(db, other_parent, lea.id, relationship="DAU")
    link, other_link = [
        str(r["id"])
        for r in await db.fetch(
            """SELECT l.id FROM patients.relatives l WHERE relative_id = $1
               ORDER BY l.proxy_user_id = $2 DESC""",
            lea.id,
            parent.user.id,
        )
    ]
    # The parent booked a visit for her with the doctor.
    visit = await make_appointment(
        db, doctor, lea, clock.now() + timedelta(days=2), created_by=parent.user.id
    )
    search = {"patient": f"Patient/{lea.id}"}

    mine = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))
    assert mine["active"] is True
    assert mine["patient"] == {"reference": f"Patient/{lea.id}"}
    # Stored: the child is the parent's CHILD; FHIR: the related person is the child's parent.
    assert mine["relationship"] == [{"coding": [{"system": ROLE_CODES, "code": "PRN"}]}]
    parent_name = await db.fetchrow(
        "SELECT first_name, last_name FROM patients.patients WHERE id = $1", parent.id
    )
    assert mine["name"] == [
        {
            "use": "official",
            "family": parent_name["last_name"],
            "given": [parent_name["first_name"]],
        }
    ]
    assert "end" not in mine["period"]
    # Each parent sees their own link only, in a search as by id.
    assert ids(
        valid(await client.get(f"{BASE}/RelatedPerson", params=search, headers=parent.user.headers))
    ) == [link]
    valid(await client.get(f"{BASE}/RelatedPerson/{other_link}", headers=parent.user.headers), 404)
    theirs = valid(
        await client.get(f"{BASE}/RelatedPerson/{other_link}", headers=other_parent.user.headers)
    )
    assert theirs["relationship"][0]["coding"][0]["code"] == "PRN"
    # Her doctor sees both, as does an admin.
    for overseer in (doctor.user.headers, admin.headers):
        seen = valid(await client.get(f"{BASE}/RelatedPerson", params=search, headers=overseer))
        assert sorted(ids(seen)) == sorted([link, other_link])
    valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=doctor.user.headers))
    # Strangers: a patient, a doctor who never saw her, nobody signed in.
    for outsider in (stranger.user.headers, other_doctor.user.headers):
        refused = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=outsider), 404)
        assert refused["issue"][0]["code"] == "not-found"
        valid(await client.get(f"{BASE}/RelatedPerson", params=search, headers=outsider), 404)
    valid(await client.get(f"{BASE}/RelatedPerson/{link}"), 401)
    valid(await client.get(f"{BASE}/RelatedPerson/not-an-id", headers=parent.user.headers), 404)
    missing = valid(await client.get(f"{BASE}/RelatedPerson", headers=parent.user.headers), 422)
    assert missing["issue"][0]["code"] == "invalid"
    refusals = await db.fetchval(
        """SELECT count(*) FROM audit.logs
           WHERE action = 'related_person.read' AND response_status = 404"""
    )
    assert refusals == 5  # the other parent's link, and each stranger's read and search
    assert await db.fetchval(
        "SELECT count(*) FROM audit.logs WHERE action = 'fhir.RelatedPerson.read'"
    )

    # The appointment names who booked it, a RelatedPerson the doctor and the parent can read.
    for reader in (doctor.user.headers, parent.user.headers):
        appointment = valid(await client.get(f"{BASE}/Appointment/{visit}", headers=reader))
        booker = appointment["participant"][2]
        assert booker["actor"]["reference"] == f"RelatedPerson/{link}"
        assert booker["required"] == "information-only"
    booked = valid(
        await client.get(
            f"{BASE}/Appointment",
            params={"practitioner": f"Practitioner/{doctor.id}"},
            headers=doctor.user.headers,
        )
    )
    assert booked["entry"][0]["resource"]["participant"][2]["actor"]["reference"] == (
        f"RelatedPerson/{link}"
    )

    # The parent stops managing her (the other parent still does): the link is kept, inactive.
    gone = await client.delete(f"{RELATIVES}/{lea.id}", headers=parent.user.headers)
    assert gone.status_code == 204, gone.text
    revoked = valid(await client.get(f"{BASE}/RelatedPerson/{link}", headers=parent.user.headers))
    assert revoked["active"] is False and "end" in revoked["period"]
    seen = valid(
        await client.get(f"{BASE}/RelatedPerson", params=search, headers=doctor.user.headers)
    )
    assert {e["resource"]["id"]: e["resource"]["active"] for e in seen["entry"]} == {
        link: False,
        other_link: True,
    }


async def test_metadata_lists_related_person(client: httpx.AsyncClient) -> None:
    metadata = valid(await client.get(f"{BASE}/metadata"))
    [related] = [r for r in metadata["rest"][0]["resource"] if r["type"] == "RelatedPerson"]
    assert [p["name"] for p in related["searchParam"]] == ["patient"]
