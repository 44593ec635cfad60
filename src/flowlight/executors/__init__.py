"""Executors: where task runs execute. The flow runner submits task runs and waits on them."""

from flowlight.executors.base import Executor
from flowlight.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor"]
