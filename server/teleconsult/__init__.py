"""Teleconsultation: video sessions of teleconsultation appointments (signaling in signaling/)."""
