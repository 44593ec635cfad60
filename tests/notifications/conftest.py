"""Fixtures for the notifier tests; the servers themselves live in `servers.py`."""

from .servers import certificate, clock, engine_clock, receiver, records, refused_url

__all__ = ["certificate", "clock", "engine_clock", "receiver", "records", "refused_url"]
