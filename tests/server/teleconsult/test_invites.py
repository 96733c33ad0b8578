"""A third participant's invitation link over REST: who may invite, single use, revocation,
expiry with the session, and what the invitee may read (nothing of the patient)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from server.settings import Settings
from server.teleconsult.guests import GUEST_AUDIENCE
from tests.factories import make_doctor, make_patient, make_user
from tests.signaling.helpers import SESSION_API, consultation

pytestmark = pytest.mark.engines

INVITE_API = "/api/v1/teleconsultation/invite"


async def _invite(
    http: httpx.AsyncClient, session_id: str, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(f"{SESSION_API}/{session_id}/invites", headers=headers)


async def _use(
    http: httpx.AsyncClient, token: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    payload = {"token": token, "display_name": "Amina (carer)", "role": "carer", **body}
    return await http.post(f"{INVITE_API}/use", json=payload, headers=headers or {})


def _code(response: httpx.Response) -> str:
    return str(response.json()["code"])


async def test_a_party_invites_and_the_link_works_once_with_every_step_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    created = await _invite(client, c.session_id, c.patient.user.headers)
    assert created.status_code == 201, created.text
    invite = created.json()
    token = invite["token"]
    assert invite["status"] == "pending" and invite["path"] == f"/invite/{token}"
    assert len(token) >= 40 and created.headers["cache-control"] == "no-store"
    # Stored hashed only.
    stored = await db.fetchrow(
        "SELECT token_hash FROM teleconsult.invites WHERE id = $1", uuid.UUID(invite["id"])
    )
    assert stored is not None and stored["token_hash"] == hashlib.sha256(token.encode()).digest()

    preview = await client.post(f"{INVITE_API}/preview", json={"token": token})
    assert preview.status_code == 200, preview.text
    named = await db.fetchrow(
        "SELECT first_name || ' ' || last_name AS name FROM doctors.doctors WHERE id = $1",
        c.doctor.id,
    )
    assert named is not None
    # The doctor's name and the time: nothing of the patient.
    assert set(preview.json()) == {"doctor_name", "start", "end", "join_opens_at", "join_closes_at"}
    assert preview.json()["doctor_name"] == named["name"]

    used = await _use(client, token)  # no account
    assert used.status_code == 200, used.text
    guest = used.json()
    claims = jwt.decode(
        guest["guest_token"],
        settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        audience=GUEST_AUDIENCE,
    )
    assert claims["sub"] == invite["id"] and claims["ses"] == c.session_id
    assert guest["display_name"] == "Amina (carer)" and guest["role"] == "carer"
    assert "patient" not in str(set(guest)) and guest["doctor_name"] == named["name"]

    again = await _use(client, token, display_name="Someone else")
    assert again.status_code == 409 and _code(again) == "invite-used"
    assert _code(await client.post(f"{INVITE_API}/preview", json={"token": token})) == (
        "invite-used"
    )
    listed = await client.get(
        f"{SESSION_API}/{c.session_id}/invites", headers=c.doctor.user.headers
    )
    assert [i["status"] for i in listed.json()["invites"]] == ["waiting"]
    assert "token" not in listed.json()["invites"][0]

    changes = await db.fetch(
        """SELECT action, user_id, resource_id, response_status FROM audit.logs
           WHERE action LIKE '%/invite%' ORDER BY append_id"""
    )
    # Every POST is audited, refusals included (the link itself is never in the trail).
    assert [(r["action"], r["response_status"]) for r in changes] == [
        ("POST /api/v1/teleconsultation/session/{session_id}/invites", 201),
        ("POST /api/v1/teleconsultation/invite/preview", 200),
        ("POST /api/v1/teleconsultation/invite/use", 200),
        ("POST /api/v1/teleconsultation/invite/use", 409),
        ("POST /api/v1/teleconsultation/invite/preview", 409),
    ]
    assert changes[0]["user_id"] == c.patient.user.id
    assert str(changes[0]["resource_id"]) == invite["id"]
    assert changes[2]["user_id"] is None and str(changes[2]["resource_id"]) == invite["id"]
    trail = await db.fetchval("SELECT string_agg(row_to_json(l)::text, '') FROM audit.logs l")
    assert token not in trail
    accesses = await db.fetch(
        """SELECT action, response_status FROM audit.logs
           WHERE action LIKE 'consultation.invite%' ORDER BY append_id"""
    )
    assert [(r["action"], r["response_status"]) for r in accesses] == [
        ("consultation.invite_used", 200),
        ("consultation.invite_use_refused", 409),
    ]


async def test_only_the_parties_invite_and_list_and_admins_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    stranger = await make_patient(db, settings)
    other_doctor = await make_doctor(db, settings)
    for headers in (stranger.user.headers, other_doctor.user.headers):
        refused = await _invite(client, c.session_id, headers)
        assert refused.status_code == 404 and _code(refused) == "no-such-consultation"
        listed = await client.get(f"{SESSION_API}/{c.session_id}/invites", headers=headers)
        assert listed.status_code == 404
    assert (await _invite(client, c.session_id, {})).status_code == 401
    assert (await _invite(client, str(uuid.uuid4()), c.doctor.user.headers)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM teleconsult.invites") == 0


async def test_a_revoked_link_is_refused_and_a_used_one_cannot_be_revoked(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    first = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    url = f"{SESSION_API}/{c.session_id}/invites/{first['id']}"
    revoked = await client.delete(url, headers=c.patient.user.headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await client.delete(url, headers=c.doctor.user.headers)).json()["status"] == "revoked"
    refused = await _use(client, first["token"])
    assert refused.status_code == 409 and _code(refused) == "invite-revoked"
    revocations = await db.fetch(
        """SELECT user_id, resource_id, response_status FROM audit.logs WHERE action =
           'DELETE /api/v1/teleconsultation/session/{session_id}/invites/{invite_id}'
           ORDER BY append_id"""
    )
    assert [(r["user_id"], r["response_status"]) for r in revocations] == [
        (c.patient.user.id, 200),
        (c.doctor.user.id, 200),
    ]

    second = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    assert (await _use(client, second["token"])).status_code == 200
    late = await client.delete(
        f"{SESSION_API}/{c.session_id}/invites/{second['id']}", headers=c.doctor.user.headers
    )
    assert late.status_code == 409 and _code(late) == "invite-used"
    # One third seat: a further link is refused while the first invitee holds it.
    third = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    crowd = await _use(client, third["token"])
    assert crowd.status_code == 409 and _code(crowd) == "invite-one-guest"
    # Another session's id with this invite: not found.
    other = await consultation(client, db, settings)
    wrong = await client.delete(
        f"{SESSION_API}/{other.session_id}/invites/{third['id']}", headers=other.doctor.user.headers
    )
    assert wrong.status_code == 404 and _code(wrong) == "no-such-invite"


async def test_links_expire_with_their_session_and_unknown_ones_are_not_found(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    invite = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    ended = await client.post(f"{SESSION_API}/{c.session_id}/end", headers=c.doctor.user.headers)
    assert ended.status_code == 200
    expired = await _use(client, invite["token"])
    assert expired.status_code == 409 and _code(expired) == "invite-expired"
    preview = await client.post(f"{INVITE_API}/preview", json={"token": invite["token"]})
    assert _code(preview) == "invite-expired"
    after = await _invite(client, c.session_id, c.doctor.user.headers)
    assert after.status_code == 409 and _code(after) == "consultation-ended"
    unknown = await _use(client, "x" * 43)
    assert unknown.status_code == 404 and _code(unknown) == "no-such-invite"
    bad = await _use(client, "y" * 43, role="neighbour")
    assert bad.status_code == 422


async def test_a_signed_in_invitee_reads_nothing_of_the_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    clinician = await make_doctor(db, settings)
    invite = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    used = await _use(
        client, invite["token"], clinician.user.headers, display_name="Dr Second", role="clinician"
    )
    assert used.status_code == 200, used.text
    row = await db.fetchrow(
        "SELECT user_id, guest_role FROM teleconsult.invites WHERE id = $1",
        uuid.UUID(invite["id"]),
    )
    assert row is not None and tuple(row) == (clinician.user.id, "clinician")
    h = clinician.user.headers
    for response in (
        await client.get(f"{SESSION_API}/{c.session_id}", headers=h),
        await client.get(SESSION_API, params={"appointment_id": c.appointment_id}, headers=h),
        await client.post(f"{SESSION_API}/{c.session_id}/join", headers=h),
        await client.get(f"{SESSION_API}/{c.session_id}/precheck", headers=h),
        await client.get(f"{SESSION_API}/{c.session_id}/invites", headers=h),
    ):
        assert response.status_code == 404, response.text
    # The patient cannot use an invitation to their own consultation as a guest.
    own = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    await db.execute("UPDATE teleconsult.invites SET status = 'refused' WHERE status = 'waiting'")
    refused = await _use(client, own["token"], c.patient.user.headers)
    assert refused.status_code == 409


async def test_links_used_at_once_still_seat_one_guest(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: the one-guest check read the other invitations before, and outside, the
    transaction that spends the link, so two links used at once both got the seat."""
    c = await consultation(client, db, settings)
    tokens = [
        (await _invite(client, c.session_id, c.doctor.user.headers)).json()["token"]
        for _ in range(4)
    ]
    answers = await asyncio.gather(
        *(_use(client, token, display_name=f"Guest {i}") for i, token in enumerate(tokens))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert {_code(a) for a in answers if a.status_code == 409} == {"invite-one-guest"}
    seated = await db.fetchval(
        "SELECT count(*) FROM teleconsult.invites WHERE status IN ('waiting', 'admitted')"
    )
    pending = await db.fetchval("SELECT count(*) FROM teleconsult.invites WHERE status = 'pending'")
    assert (seated, pending) == (1, 3)


async def test_a_blank_name_is_refused_and_admins_get_their_own_refusal(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: a name of spaces was accepted (the doctor admitted "   "), and an admin
    inviting got a 403 saying "No such invitation link." (code no-such-invite)."""
    c = await consultation(client, db, settings)
    invite = (await _invite(client, c.session_id, c.doctor.user.headers)).json()
    for name in ("   ", "\t\n"):
        blank = await _use(client, invite["token"], display_name=name)
        assert blank.status_code == 422, blank.text
        assert [e["field"] for e in blank.json()["errors"]] == ["display_name"]
    trimmed = await _use(client, invite["token"], display_name="  Amina  ")
    assert trimmed.status_code == 200 and trimmed.json()["display_name"] == "Amina"
    admin = await make_user(db, settings, "admin")
    for answer in (
        await _invite(client, c.session_id, admin.headers),
        await client.get(f"{SESSION_API}/{c.session_id}/invites", headers=admin.headers),
        await client.delete(
            f"{SESSION_API}/{c.session_id}/invites/{invite['id']}", headers=admin.headers
        ),
    ):
        assert answer.status_code == 403 and _code(answer) == "admins-never-join", answer.text
    assert await db.fetchval("SELECT count(*) FROM teleconsult.invites") == 1
