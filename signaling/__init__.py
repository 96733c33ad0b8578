"""WebRTC signaling, consultation rooms and TURN credentials."""
