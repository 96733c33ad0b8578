"""Events other packages add to /consult (one import + one entry each, like app routers).

WebRTC signaling registers its offer / answer / ice / hangup handlers here, e.g.:
    from signaling.consult import SIGNALING
    extensions.append(SIGNALING)
"""

from __future__ import annotations

from realtime.consult import ConsultExtension
from signaling.consult import SIGNALING


def consult_extensions() -> list[ConsultExtension]:
    extensions: list[ConsultExtension] = []
    extensions.append(SIGNALING)
    return extensions
