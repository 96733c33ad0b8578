"""SQL of the scheduling domain: availability, appointments, versions (one module per concern)."""
