"""WebRTC signaling on /consult: the SDP / ICE relay, call rooms, the recorder, aiortc peers.

The rules (who may join, when, join tokens, TURN credentials) are server/teleconsult/'s."""
