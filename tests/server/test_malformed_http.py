"""A request uvicorn cannot parse gets the problem body every other error has (server/http11.py),
through a real `markini serve`-configured uvicorn on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.realtime.conftest import LiveServer, live_server, start_server  # noqa: F401

pytestmark = [pytest.mark.engines, pytest.mark.any_hour]

# A control byte in a header value (e.g. an Idempotency-Key pasted with a stray \x01), a request
# line that is no HTTP, a header without its colon.
MALFORMED = [
    b"POST /api/v1/appointments HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\x01b\r\n"
    b"Content-Length: 0\r\n\r\n",
    b"HELLO\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
]


async def _exchange(server: LiveServer, raw: bytes) -> tuple[str, dict[str, str], bytes]:
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # the server closes after it
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize("raw", MALFORMED, ids=["control-byte", "no-http", "no-colon"])
async def test_a_request_that_is_not_http_gets_a_400_problem(
    live_server: LiveServer,  # noqa: F811
    raw: bytes,
) -> None:
    status, headers, body = await _exchange(live_server, raw)
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["code"] == "malformed-request"
    assert set(problem) >= {"type", "title", "status", "detail", "code"}
    still = await live_server.http.get("/healthz")
    assert still.status_code == 200, "the server serves on"
