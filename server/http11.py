"""uvicorn's HTTP/1.1 protocol (httptools) answering a request it cannot parse (a control byte in
a header, a broken request line) with the RFC 9457 problem body every other error has
(`malformed-request`), not uvicorn's text/plain line. Written against uvicorn 0.35 .. 0.x
(pyproject.toml): `send_400_response` is what its parser error path calls.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.problems import MALFORMED_REQUEST, PROBLEM_JSON
from server.websocket import WEBSOCKET_OPTIONS

_BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": MALFORMED_REQUEST.english,
        "code": MALFORMED_REQUEST.code,
    }
).encode()


class ProblemHttpProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            f"content-type: {PROBLEM_JSON}\r\n".encode(),
            f"content-length: {len(_BODY)}\r\n".encode(),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + _BODY)
        self.transport.close()


# uvicorn.Config options for Markini's HTTP and websockets, used by `markini serve` and the test
# servers.
UVICORN_OPTIONS: dict[str, Any] = {"http": ProblemHttpProtocol, **WEBSOCKET_OPTIONS}
