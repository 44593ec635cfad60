"""Branching in a flow (Prefect 1's `prefect.tasks.control_flow`): `case` blocks, `switch`,
`ifelse`, `merge`, and `FilterTask` for cleaning mapped results."""

from flowlight.tasks.control_flow.case import case
from flowlight.tasks.control_flow.conditional import ifelse, merge, switch
from flowlight.tasks.control_flow.filter import FilterTask

__all__ = ["FilterTask", "case", "ifelse", "merge", "switch"]
