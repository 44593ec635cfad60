"""The objects users build flows from: tasks, parameters, edges and flows."""

from flowlight.core.edge import Edge, flatten, unmapped
from flowlight.core.flow import Flow
from flowlight.core.parameter import Parameter
from flowlight.core.task import Constant, Task, task

__all__ = ["Constant", "Edge", "Flow", "Parameter", "Task", "flatten", "task", "unmapped"]
