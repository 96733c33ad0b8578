"""A local stand-in for the Elasticsearch HTTP API (aiohttp on 127.0.0.1): it records every
request and answers like a cluster would for the calls the adapter makes (indices, aliases,
bulk, search). Searches answer whatever the test put in `search_responses`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HEADERS = {"X-Elastic-Product": "Elasticsearch"}  # the official client refuses answers without it


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # JSON, a list for NDJSON (bulk), or None


@dataclass
class EsStandIn:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    aliases: dict[str, set[str]] = field(default_factory=dict)  # alias -> indices
    indices: set[str] = field(default_factory=set)
    search_responses: list[dict[str, Any]] = field(default_factory=list)
    bulk_error: dict[str, Any] | None = None

    def calls(self, method: str, suffix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            text = raw.decode()
            lines = [line for line in text.split("\n") if line.strip()]
            body = (
                [json.loads(line) for line in lines]
                if "_bulk" in request.path
                else json.loads(text)
            )
        self.requests.append(Recorded(request.method, request.path, dict(request.query), body))
        status, answer = self._answer(request.method, request.path.strip("/").split("/"), body)
        if request.method == "HEAD":
            return web.Response(status=status, headers=HEADERS)
        return web.json_response(answer, status=status, headers=HEADERS)

    def _answer(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if parts == [""]:
            return 200, {"version": {"number": "9.0.0"}, "tagline": "You Know, for Search"}
        if parts[0] == "_alias":
            indices = self.aliases.get(parts[1], set())
            if not indices:
                return 404, {"error": "alias missing", "status": 404}
            return 200, {i: {"aliases": {parts[1]: {}}} for i in indices}
        if parts == ["_aliases"] and method == "POST":
            for action in body["actions"]:
                ((kind, spec),) = action.items()
                members = self.aliases.setdefault(spec["alias"], set())
                members.add(spec["index"]) if kind == "add" else members.discard(spec["index"])
            return 200, {"acknowledged": True}
        if len(parts) == 1 and method == "PUT":
            self.indices.add(parts[0])
            for alias in (body or {}).get("aliases", {}):
                self.aliases.setdefault(alias, set()).add(parts[0])
            return 200, {"acknowledged": True, "index": parts[0]}
        if len(parts) == 1 and method == "DELETE":
            self.indices.discard(parts[0])
            return 200, {"acknowledged": True}
        if parts[-1] == "_bulk":
            return 200, self._bulk_answer(body)
        if parts[-1] == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if parts[-1] == "_search":
            return 200, self.search_responses.pop(0) if self.search_responses else empty_search()
        return 404, {"error": f"stand-in has no route for {method} /{'/'.join(parts)}"}

    def _bulk_answer(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        items = []
        for line in lines:
            if len(line) == 1 and next(iter(line)) in ("index", "delete"):
                ((op, meta),) = line.items()
                result: dict[str, Any] = {"_id": meta["_id"], "status": 200, "result": "updated"}
                if self.bulk_error is not None:
                    result = {"_id": meta["_id"], "status": 400, "error": self.bulk_error}
                items.append({op: result})
        return {"took": 1, "errors": self.bulk_error is not None, "items": items}


def empty_search() -> dict[str, Any]:
    return {
        "took": 1,
        "timed_out": False,
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
        "aggregations": {
            "specialties": {"buckets": []},
            "cities": {"buckets": []},
        },
    }


@asynccontextmanager
async def es_standin() -> AsyncIterator[EsStandIn]:
    standin = EsStandIn()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", standin.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    standin.url = f"http://127.0.0.1:{port}"
    try:
        yield standin
    finally:
        await runner.cleanup()
