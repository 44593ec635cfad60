"""Secret tasks (Prefect 1's `prefect.tasks.secrets`): a task whose result is a secret's value,
never checkpointed. `FlowlightSecret` is Prefect's `PrefectSecret` (also importable under that
name)."""

from flowlight.tasks.secrets.base import FlowlightSecret, PrefectSecret, SecretBase
from flowlight.tasks.secrets.env_var import EnvVarSecret

__all__ = ["EnvVarSecret", "FlowlightSecret", "PrefectSecret", "SecretBase"]
