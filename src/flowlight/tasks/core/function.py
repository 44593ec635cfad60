"""`FunctionTask`: a task whose `run` is a plain function (what `@task` builds).

Its home is `flowlight.core.task`; this module is where Prefect 1 code imports it from.
"""

from flowlight.core.task import FunctionTask

__all__ = ["FunctionTask"]
