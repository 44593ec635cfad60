"""Access to values that live outside the flow's code (secrets)."""

from flowlight.client.secrets import Secret

__all__ = ["Secret"]
