"""Markini ASGI server: settings, app factory, CLI and one package per domain."""
