"""Accounts, sessions, tokens, MFA and role-based access."""
