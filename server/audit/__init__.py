"""Audit trail: append-only, hash-chained record of mutating requests and health-data reads."""
