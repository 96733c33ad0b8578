"""Notifications: what queued messages say (sending them is a later issue)."""
