"""Result types that store task values (Prefect 1's `prefect.engine.results`).

A task with `result=LocalResult(dir=..., location="{task_name}.pickle")` writes its return value
when checkpointing is on (`FLOWLIGHT__FLOWS__CHECKPOINTING=true`, or `checkpointing=True` in the
run's context) and reads it back instead of running when its `target` exists. Prefect 1's cloud
stores (S3, GCS, Azure) are not part of flowlight.
"""

from flowlight.engine.results.constant_result import ConstantResult
from flowlight.engine.results.flowlight_result import FlowlightResult, PrefectResult
from flowlight.engine.results.local_result import LocalResult
from flowlight.engine.results.secret_result import SecretResult

__all__ = ["ConstantResult", "FlowlightResult", "LocalResult", "PrefectResult", "SecretResult"]
