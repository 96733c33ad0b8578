"""Scheduling: availability, free slots, appointments and holds."""
