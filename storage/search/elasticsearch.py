"""Doctor search on Elasticsearch (official async client), used when MARKINI_ELASTICSEARCH_URL
is set. The index mirrors `search.doctor_index`; readers and writers go through an alias so a
rebuild fills a fresh index and swaps it in without a moment of empty results."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from elasticsearch import AsyncElasticsearch

from storage.search import es_queries
from storage.search.base import (
    DoctorHit,
    DoctorQuery,
    FacetCount,
    NearbyQuery,
    Progress,
    SearchResult,
    Suggestion,
)
from storage.search.es_documents import INDEX_SETTINGS, MAPPINGS, distance_km, document, hit
from storage.search.index import count_indexed, ids_indexed_since, index_rows, index_rows_after

log = logging.getLogger(__name__)

# One bulk request per this many doctors while rebuilding: a few MB, well under ES's 100 MB cap.
REBUILD_BATCH = 1000
_FIRST_ID = uuid.UUID(int=0)


class BulkFailed(RuntimeError):
    """Elasticsearch refused some documents of a bulk request."""


class ElasticsearchSearch:
    name = "elasticsearch"

    def __init__(self, client: AsyncElasticsearch, alias: str) -> None:
        self._es = client
        self.alias = alias

    async def ensure_index(self) -> None:
        """Create the first concrete index behind the alias if there is none yet."""
        if await self._es.indices.exists_alias(name=self.alias):
            return
        await self._create(self._new_index_name(), with_alias=True)

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    async def _create(self, index: str, *, with_alias: bool) -> None:
        aliases: dict[str, Any] = {self.alias: {}} if with_alias else {}
        await self._es.indices.create(
            index=index, settings=INDEX_SETTINGS, mappings=MAPPINGS, aliases=aliases
        )

    async def search(self, query: DoctorQuery) -> SearchResult:
        response = await self._es.search(index=self.alias, body=es_queries.search_body(query))
        body = response.body
        hits = []
        for found in body["hits"]["hits"]:
            source = found["_source"]
            distance = None
            if query.lat is not None and query.lon is not None:
                distance = distance_km(source, query.lat, query.lon)
            hits.append(hit(source, query.visit_type, distance))
        aggs = body.get("aggregations", {})
        return SearchResult(
            hits=hits,
            total=int(body["hits"]["total"]["value"]),
            total_exact=body["hits"]["total"]["relation"] == "eq",
            specialties=_facet(aggs.get("specialties")),
            cities=_facet(aggs.get("cities")),
        )

    async def nearby(self, query: NearbyQuery) -> list[DoctorHit]:
        response = await self._es.search(index=self.alias, body=es_queries.nearby_body(query))
        # The first sort value is the distance, in km, as Elasticsearch measured it.
        return [
            hit(found["_source"], None, float(found["sort"][0]))
            for found in response.body["hits"]["hits"]
        ]

    async def suggest(self, text: str, limit: int) -> list[Suggestion]:
        response = await self._es.search(
            index=self.alias, body=es_queries.suggest_body(text, limit)
        )
        suggest = response.body.get("suggest", {})
        found: list[Suggestion] = []
        for option in _options(suggest, "doctors"):
            source = option["_source"]
            label = f"{source['first_name']} {source['last_name']}"
            found.append(Suggestion("doctor", label, source["id"]))
        for option in _options(suggest, "cities"):
            city = option["_source"].get("city") or option["text"]
            found.append(Suggestion("city", city, city))
        return found

    async def sync(self, con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID]) -> None:
        rows = await index_rows(con, doctor_ids)
        present = {r["doctor_id"] for r in rows}
        operations: list[dict[str, Any]] = []
        for row in rows:
            operations += [{"index": {"_id": str(row["doctor_id"])}}, document(row)]
        for gone in set(doctor_ids) - present:
            operations.append({"delete": {"_id": str(gone)}})
        if operations:
            # wait_for: once the event is handled, searches see the change (refresh <= 1 s).
            await self._bulk(self.alias, operations, refresh="wait_for")

    async def rebuild(self, pool: asyncpg.Pool, progress: Progress, started: datetime) -> None:
        index = self._new_index_name()
        await self._create(index, with_alias=False)
        total, done, after = await count_indexed(pool), 0, _FIRST_ID
        progress(0, total)
        while rows := await index_rows_after(pool, after, REBUILD_BATCH):
            operations: list[dict[str, Any]] = []
            for row in rows:
                operations += [{"index": {"_id": str(row["doctor_id"])}}, document(row)]
            await self._bulk(index, operations, refresh=False)
            done, after = done + len(rows), rows[-1]["doctor_id"]
            progress(done, total)
        await self._es.indices.refresh(index=index)
        old = await self._indices_behind_alias()
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        await self._es.indices.update_aliases(
            actions=[*actions, {"add": {"index": index, "alias": self.alias}}]
        )
        for previous in old:
            await self._es.indices.delete(index=previous)
        # Events handled while we copied went to the old index: replay what changed since.
        async with pool.acquire() as con:
            await self.sync(con, await ids_indexed_since(con, started))

    async def _indices_behind_alias(self) -> list[str]:
        if not await self._es.indices.exists_alias(name=self.alias):
            return []
        return list((await self._es.indices.get_alias(name=self.alias)).body)

    async def _bulk(self, index: str, operations: list[dict[str, Any]], refresh: Any) -> None:
        response = await self._es.bulk(index=index, operations=operations, refresh=refresh)
        if response.body.get("errors"):
            failed = [
                item
                for entry in response.body["items"]
                for item in entry.values()
                if "error" in item
            ]
            if failed:
                raise BulkFailed(f"{len(failed)} documents refused, first: {failed[0]['error']}")

    async def close(self) -> None:
        await self._es.close()


def _facet(aggregation: dict[str, Any] | None) -> list[FacetCount]:
    buckets = (aggregation or {}).get("buckets", [])
    return [FacetCount(str(b["key"]), int(b["doc_count"])) for b in buckets]


def _options(suggest: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [option for entry in suggest.get(name, []) for option in entry.get("options", [])]
