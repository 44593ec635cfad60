"""flowlight: Prefect 1's flow API with every state change observable.

Porting a Prefect 1 flow is a change of imports: `from flowlight import Flow, task, Parameter`.
"""

from flowlight import triggers
from flowlight.client.secrets import Secret
from flowlight.configuration import config
from flowlight.core import Constant, Edge, Flow, Parameter, Task, flatten, task, unmapped
from flowlight.engine import signals, state
from flowlight.tasks.control_flow import case
from flowlight.tasks.core.resource_manager import resource_manager
from flowlight.utilities.context import context
from flowlight.utilities.edges import mapped
from flowlight.utilities.tasks import apply_map, tags

__version__ = "0.1.0"

__all__ = [
    "Constant",
    "Edge",
    "Flow",
    "Parameter",
    "Secret",
    "Task",
    "apply_map",
    "case",
    "config",
    "context",
    "flatten",
    "mapped",
    "resource_manager",
    "signals",
    "state",
    "tags",
    "task",
    "triggers",
    "unmapped",
]
