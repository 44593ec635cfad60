"""The engine: states, signals and the runners that move tasks and flows between states."""

from flowlight.engine import signals, state

__all__ = ["signals", "state"]
