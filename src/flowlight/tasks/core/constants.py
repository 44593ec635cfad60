"""`Constant`: a value standing where a task is needed (Prefect 1's path for it).

Its home is `flowlight.core.task`, next to `Task`; this module is where Prefect 1 code imports it
from.
"""

from flowlight.core.task import Constant

__all__ = ["Constant"]
