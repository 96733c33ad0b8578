"""The join answer (a domain schema) names the transport it cannot import: they must agree."""

from __future__ import annotations

from realtime.protocol import CONSULT_NS
from server.teleconsult.schemas import SignalingInfo
from signaling.protocol import CALL_JOIN


def test_join_answer_names_the_namespace_and_join_event_signaling_serves() -> None:
    info = SignalingInfo()
    assert info.namespace == CONSULT_NS
    assert info.join_event == CALL_JOIN
