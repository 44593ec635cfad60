"""Fixtures for the notifier tests; the servers themselves live in `servers.py`."""

from .servers import certificate, clock, receiver, refused_url

__all__ = ["certificate", "clock", "receiver", "refused_url"]
