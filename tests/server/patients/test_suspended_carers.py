"""An outsider's attacks on "a suspended account acts for nobody" (migration 0037) where it
meets the relative's erasure: the removal's and the account erasure's "nobody else looks after
them, erase the relative" decision must not take a suspended account for nobody. Suspension is
an admin's reversible act; erasure is not (README "Family and proxy booking", GDPR)."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import Patient, make_patient
from tests.server.patients.test_relatives import URL, add, link


async def _suspend(db: asyncpg.Connection, who: Patient) -> None:
    # As /admin/users/{id}/suspend leaves the account.
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", who.user.id)


async def _erased(db: asyncpg.Connection, patient_id: object) -> bool:
    erased: bool = await db.fetchval(
        "SELECT erased_at IS NOT NULL FROM patients.patients WHERE id = $1::uuid",
        str(patient_id),
    )
    return erased


async def test_removing_a_relative_whose_own_login_is_suspended_does_not_erase_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The son manages his mother, who has her own login; an admin suspended her account.
    The son removes her from his relatives: his link goes, her patient record (her own
    account's) stays, as README says (erased only "when nobody else manages them and they have
    no login")."""
    son, mother = await make_patient(db, settings), await make_patient(db, settings)
    await link(db, son, str(mother.id))
    await _suspend(db, mother)

    gone = await client.delete(f"{URL}/{mother.id}", headers=son.user.headers)
    assert gone.status_code == 204, gone.text
    assert not await _erased(db, mother.id)


async def test_removing_a_child_whose_other_parent_is_suspended_does_not_erase_her(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Both parents manage Léa (no login, nothing booked); an admin suspended the father. The
    mother removes Léa: the father's link is still live, so Léa is not erased from under him
    (once reactivated he would manage an erased child)."""
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    await _suspend(db, father)

    gone = await client.delete(f"{URL}/{lea['id']}", headers=mother.user.headers)
    assert gone.status_code == 204, gone.text
    assert not await _erased(db, lea["id"])


async def test_erasing_a_parent_keeps_the_child_a_suspended_other_parent_manages(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The mother erases her account; the father (suspended) still has a live link to Léa."""
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    await _suspend(db, father)

    erased = await client.delete(f"/api/v1/patients/{mother.id}", headers=mother.user.headers)
    assert erased.status_code == 204, erased.text
    assert not await _erased(db, lea["id"])
