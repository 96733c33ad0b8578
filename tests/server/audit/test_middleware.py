"""The audit middleware: one masked, attributed entry per mutating API request."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends
from starlette.routing import Mount

from server.app import create_app
from server.audit.service import record_change, verify_chain
from server.auth.principal import Principal, current_principal, optional_principal
from server.deps import PoolDep
from server.settings import Settings
from storage.pool import open_pool
from tests.factories import make_user

# Test-only routes: the audit trail must work for whatever mutating routes the domains add.
widgets = APIRouter(prefix="/api/v1/widgets")


@widgets.post("/{widget_id}/notes", status_code=201)
async def add_note(
    widget_id: uuid.UUID,
    body: dict[str, Any],
    principal: Principal | None = Depends(optional_principal),
) -> dict[str, str]:
    return {"widget_id": str(widget_id)}


@widgets.delete("/{widget_id}", status_code=204)
async def delete_widget(
    widget_id: uuid.UUID, principal: Principal = Depends(current_principal)
) -> None:
    return None


@widgets.post("", status_code=201)
async def create_widget(body: dict[str, Any], pool: PoolDep) -> dict[str, str]:
    """A change and its entry in one transaction, as every domain service records them."""
    new_id = uuid.uuid4()
    async with pool.acquire() as con, con.transaction():
        await con.execute("INSERT INTO public.widgets (id) VALUES ($1)", new_id)
        await record_change(con, resource_id=new_id)
    return {"id": str(new_id)}


# Set once /lingering's change is stored: its client then goes away (the test cancels it).
changed = asyncio.Event()


@widgets.post("/lingering", status_code=201)
async def create_and_linger(pool: PoolDep, committed: bool) -> None:
    """Waits for ever once its change is recorded: after its commit, or before it."""
    async with pool.acquire() as con, con.transaction():
        await record_change(con)
        if not committed:
            changed.set()
            await asyncio.sleep(3600)
    changed.set()
    await asyncio.sleep(3600)


@widgets.post("/explode")
async def explode() -> None:
    raise RuntimeError("handler bug")


@widgets.get("/{widget_id}")
async def read_widget(widget_id: uuid.UUID) -> dict[str, str]:
    return {"widget_id": str(widget_id)}


@pytest.fixture
async def client(settings: Settings, db: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    await db.execute("CREATE TABLE public.widgets (id uuid PRIMARY KEY)")
    app = create_app(settings)
    app.include_router(widgets)
    # The browser app's catch-all mount on "/" must stay last: put the test routes before it.
    routes = app.router.routes
    added = routes.pop()
    routes.insert(next(i for i, r in enumerate(routes) if isinstance(r, Mount)), added)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _entries(db: asyncpg.Connection) -> list[asyncpg.Record]:
    entries: list[asyncpg.Record] = await db.fetch("SELECT * FROM audit.logs ORDER BY append_id")
    return entries


async def test_mutating_request_is_recorded_with_masked_payload(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_user(db, settings, "doctor")
    widget_id = uuid.uuid4()
    body = {
        "title": "follow-up",
        "password": "hunter2",
        "notes": "patient reports chest pain",
        "mfa_code": "123456",
        "nested": {"refresh_token": "rt", "items": [{"diagnosis": "angina", "count": 2}]},
    }
    response = await client.post(
        f"/api/v1/widgets/{widget_id}/notes",
        json=body,
        headers={**doctor.headers, "User-Agent": "audit-test/1.0"},
    )
    assert response.status_code == 201

    [entry] = await _entries(db)
    assert entry["user_id"] == doctor.id
    assert entry["role"] == "doctor"
    assert entry["action"] == "POST /api/v1/widgets/{widget_id}/notes"
    assert (entry["resource_type"], entry["resource_id"]) == ("widget", str(widget_id))
    assert entry["response_status"] == 201
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["ip_address"] == "127.0.0.1"
    assert entry["user_agent"] == "audit-test/1.0"
    assert entry["request_payload"] == {
        "title": "follow-up",
        "password": "***",
        "notes": "***",
        "mfa_code": "***",
        "nested": {"refresh_token": "***", "items": [{"diagnosis": "***", "count": 2}]},
    }
    stored = await db.fetchval("SELECT request_payload::text FROM audit.logs")
    assert "hunter2" not in stored and "chest pain" not in stored and "angina" not in stored


async def test_refused_mutation_is_recorded_without_a_user(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    widget_id = uuid.uuid4()
    response = await client.delete(f"/api/v1/widgets/{widget_id}")
    assert response.status_code == 401

    [entry] = await _entries(db)
    assert entry["user_id"] is None and entry["role"] is None
    assert entry["action"] == "DELETE /api/v1/widgets/{widget_id}"
    assert entry["response_status"] == 401
    assert entry["request_payload"] is None


async def test_reads_and_non_api_requests_are_not_recorded(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    assert (await client.get(f"/api/v1/widgets/{uuid.uuid4()}")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
    assert await _entries(db) == []


async def test_failing_handler_and_unknown_route_are_recorded(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    assert (await client.post("/api/v1/widgets/explode")).status_code == 500
    assert (await client.post("/api/v1/no-such-thing", json={"token": "x"})).status_code == 404

    failed, unknown = await _entries(db)
    assert (failed["action"], failed["response_status"]) == ("POST /api/v1/widgets/explode", 500)
    assert (unknown["action"], unknown["response_status"]) == ("POST /api/v1/no-such-thing", 404)
    assert unknown["resource_type"] is None
    assert unknown["request_payload"] == {"token": "***"}


@pytest.mark.parametrize("committed", [True, False])
async def test_a_request_whose_client_went_away_has_one_entry(
    client: httpx.AsyncClient, db: asyncpg.Connection, committed: bool
) -> None:
    """The client went away (the request is cancelled) once the change was recorded: after its
    commit the change's entry is the request's only one (no 500 for the same request); before
    it, the entry rolled back with the change, and the request is recorded as failed."""
    changed.clear()
    url = f"/api/v1/widgets/lingering?committed={str(committed).lower()}"
    request = asyncio.create_task(client.post(url))
    await changed.wait()
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)
    [entry] = await _entries(db)
    assert entry["response_status"] == (201 if committed else 500)


async def test_handler_names_the_resource_it_created(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    response = await client.post("/api/v1/widgets", json={"title": "new"})
    [entry] = await _entries(db)
    assert entry["resource_type"] == "widget"
    assert entry["resource_id"] == response.json()["id"]


async def test_concurrent_requests_are_attributed_to_their_own_callers(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    users = [await make_user(db, settings, "patient") for _ in range(10)]
    callers: dict[uuid.UUID, uuid.UUID | None] = {}
    requests = []
    for index in range(20):
        user = users[index // 2] if index % 2 == 0 else None  # anonymous calls interleaved
        widget_id = uuid.uuid4()
        callers[widget_id] = user.id if user else None
        headers = user.headers if user else {}
        requests.append(
            client.post(f"/api/v1/widgets/{widget_id}/notes", json={"i": index}, headers=headers)
        )
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {201}

    entries = await _entries(db)
    assert len(entries) == 20
    for entry in entries:
        assert entry["user_id"] == callers[uuid.UUID(entry["resource_id"])]


async def test_anonymous_request_after_a_signed_in_one_is_not_attributed(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    # asgi-lifespan hands every request the same state dict: a stale principal must not leak.
    user = await make_user(db, settings, "admin")
    await client.post(f"/api/v1/widgets/{uuid.uuid4()}/notes", json={}, headers=user.headers)
    await client.post(f"/api/v1/widgets/{uuid.uuid4()}/notes", json={})

    signed_in, anonymous = await _entries(db)
    assert (signed_in["user_id"], signed_in["role"]) == (user.id, "admin")
    assert (anonymous["user_id"], anonymous["role"]) == (None, None)


async def test_sign_in_attempt_is_recorded_without_the_password(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    credentials = {"email": "nobody@example.test", "password": "correct horse battery"}
    response = await client.post("/api/v1/auth/login", json=credentials)
    assert response.status_code == 401

    [entry] = await _entries(db)
    assert entry["action"] == "POST /api/v1/auth/login"
    assert entry["resource_type"] == "auth"
    assert entry["response_status"] == 401
    assert entry["request_payload"] == {"email": "nobody@example.test", "password": "***"}


@pytest.mark.parametrize(
    "body",
    ['{"x": "\\ud800"}', '{"k\\u0000": 1}', '{"a": ["ok", {"b\\udfff": "c\\u0000d"}]}'],
)
async def test_unstorable_text_is_refused_before_the_handler_and_the_refusal_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, body: str
) -> None:
    response = await client.post(
        f"/api/v1/widgets/{uuid.uuid4()}/notes",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["code"] for e in response.json()["errors"]} == {"unstorable_text"}
    [entry] = await _entries(db)
    assert entry["response_status"] == 422
    assert "\ufffd" in str(entry["request_payload"])


async def _refuse_audit_inserts(db: asyncpg.Connection) -> None:
    """The audit store refuses every row (as a full disk or a lost database would)."""
    await db.execute(
        """CREATE FUNCTION public.refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'audit store unavailable (test)'; END $$;
           CREATE TRIGGER refuse_audit BEFORE INSERT ON audit.logs
               FOR EACH ROW EXECUTE FUNCTION public.refuse_audit()"""
    )


async def test_a_change_whose_entry_cannot_be_written_does_not_happen(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await _refuse_audit_inserts(db)
    response = await client.post("/api/v1/widgets", json={"name": "w"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "/problems/unavailable"
    assert await db.fetchval("SELECT count(*) FROM public.widgets") == 0  # rolled back with it

    await db.execute("DROP TRIGGER refuse_audit ON audit.logs")
    created = await client.post("/api/v1/widgets", json={"name": "w"})
    assert created.status_code == 201
    [entry] = await _entries(db)  # written once, in the change's transaction
    assert (entry["resource_id"], entry["response_status"]) == (created.json()["id"], 201)


async def test_a_refusal_whose_entry_cannot_be_written_is_answered_503(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await _refuse_audit_inserts(db)
    response = await client.delete(f"/api/v1/widgets/{uuid.uuid4()}")
    assert response.status_code == 503  # not the 401: no answer leaves without its entry
    assert response.headers["retry-after"] == "5"


async def test_the_servers_sealer_chains_new_entries_and_those_a_crash_left(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    # A row committed by a node that died before sealing it, then a request served now.
    await db.execute("INSERT INTO audit.logs (action) VALUES ('left unsealed by a dead node')")
    assert (await client.post("/api/v1/widgets", json={})).status_code == 201
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 10  # only a guard against a hang: the sealer runs every 250 ms
    while await db.fetchval("SELECT count(*) FROM audit.logs WHERE seq IS NULL"):
        assert loop.time() < give_up, "the background sealer did not seal"
        await asyncio.sleep(0.05)
    rows = await db.fetch("SELECT action, seq FROM audit.logs ORDER BY seq")
    assert [(r["action"], r["seq"]) for r in rows] == [
        ("left unsealed by a dead node", 1),
        ("POST /api/v1/widgets", 2),
    ]
    async with open_pool(settings.database_url or "", max_size=2) as pool:
        assert (await verify_chain(pool)).ok
