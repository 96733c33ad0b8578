"""Every length limit of a text field answers pydantic's `string_too_long` (`url_too_long` for a
URL), the field codes clients translate, whatever validators the field also has: a limit given
outside an `Annotated[str, Printable]` ran after the validator as a generic `too_long` ("Value
should have at most 500 items")."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from server.app import create_app
from server.settings import Settings

pytestmark = pytest.mark.any_hour


def _max_length(schema: dict[str, Any]) -> int | None:
    if "maxLength" in schema:
        return int(schema["maxLength"])
    for option in schema.get("anyOf", []):
        if option.get("type") == "string" and "maxLength" in option:
            return int(option["maxLength"])
    return None


def _server_models(settings: Settings) -> set[type[BaseModel]]:
    """Every pydantic model of server/ (the app imports them all), request bodies among them."""
    create_app(settings)
    found, todo = set(), list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo += model.__subclasses__()
        if model.__module__.startswith("server."):
            found.add(model)
    return found


def test_every_text_limit_is_string_too_long(settings: Settings) -> None:
    checked, wrong = 0, []
    for model in _server_models(settings):
        for name, field in model.model_fields.items():
            adapter: TypeAdapter[Any] = TypeAdapter(Annotated[field.annotation, field])
            limit = _max_length(adapter.json_schema())
            if limit is None:
                continue
            checked += 1
            try:
                adapter.validate_python("x" * (limit + 1))
            except ValidationError as exc:
                codes = {e["type"] for e in exc.errors()}
                if not codes < {"string_too_long", "url_too_long"}:
                    wrong.append(f"{model.__name__}.{name}: {codes}")
            else:
                wrong.append(f"{model.__name__}.{name}: accepted")
    assert checked > 10 and not wrong, wrong
