"""A local stand-in for Twilio's REST API that checks every request against Twilio's own API
description (../shared/vendor/twilio_api_v2010.json) with openapi-core, and answers with the
description's own example, itself checked against the response schema.

Magic destinations (as Twilio's test credentials have): +15005550001 is an invalid number
(400, code 21211), +15005550009 cannot receive SMS (400, 21614), and numbers in `busy` get a
503 once (a transient failure).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPEC_PATH = Path(__file__).resolve().parents[4] / "shared" / "vendor" / "twilio_api_v2010.json"
TWILIO_HOST = "https://api.twilio.com"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
ERRORS = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


@dataclass
class TwilioMock:
    account_sid: str
    auth_token: str
    spec: dict[str, Any] = field(default_factory=load_spec)
    sent: list[dict[str, Any]] = field(default_factory=list)  # valid requests, in order
    invalid: list[str] = field(default_factory=list)  # why requests broke the contract
    busy: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.api = OpenAPI.from_dict(self.spec, config=Config(spec_validator_cls=None))

    def _example(self, to: str, sender: str, body: str) -> dict[str, Any]:
        op = self.spec["paths"][MESSAGES]["post"]["responses"]["201"]["content"]
        example: dict[str, Any] = dict(op["application/json"]["examples"]["create"]["value"])
        sid = "SM" + secrets.token_hex(16)
        example.update(
            sid=sid,
            to=to,
            from_=None,
            body=body,
            account_sid=self.account_sid,
            status="queued",
            uri=f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        )
        example["from"] = sender
        example.pop("from_")
        return example

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        checked = MockRequest(
            TWILIO_HOST,
            request.method,
            request.path,
            headers=dict(request.headers),
            data=raw,
            content_type=request.content_type,
        )
        result = self.api.unmarshal_request(checked)
        if result.errors:
            self.invalid.append("; ".join(repr(e) for e in result.errors))
            return web.json_response(
                {"code": 20001, "message": "invalid", "status": 400}, status=400
            )
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response(
                {"code": 20003, "message": "Authenticate", "status": 401}, status=401
            )
        form = dict(result.body or {})
        to = str(form.get("To"))
        if to in self.busy:
            self.busy.discard(to)
            return web.json_response({"code": 20500, "message": "busy", "status": 503}, status=503)
        if to in ERRORS:
            code, message = ERRORS[to]
            return web.json_response({"code": code, "message": message, "status": 400}, status=400)
        answer = self._example(to, str(form.get("From")), str(form.get("Body")))
        response = MockResponse(
            json.dumps(answer).encode(), status_code=201, content_type="application/json"
        )
        checked_answer = self.api.unmarshal_response(checked, response)
        if checked_answer.errors:
            self.invalid.append("answer: " + "; ".join(repr(e) for e in checked_answer.errors))
        self.sent.append(form)
        return web.json_response(answer, status=201)

    async def start(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return runner, f"http://127.0.0.1:{port}"
