"""Secret tasks: their value comes from `Secret(name).get()` and is never stored (compared with
Prefect 1.4.1's `prefect.tasks.secrets`)."""

from __future__ import annotations

import pytest

from flowlight import Flow, context
from flowlight.engine.results import LocalResult, SecretResult
from flowlight.tasks.secrets import EnvVarSecret, FlowlightSecret, PrefectSecret


def test_a_secret_task_reads_the_run_context_secrets_and_never_checkpoints() -> None:
    secret = PrefectSecret("API_TOKEN")
    assert PrefectSecret is FlowlightSecret
    assert secret.checkpoint is False and isinstance(secret.result, SecretResult)
    assert secret.result.location == "API_TOKEN"
    with context(secrets={"API_TOKEN": "token-1234", "OTHER": "other-5678"}):
        assert secret.result.read("OTHER").value == "other-5678"
        flow = Flow("secret", tasks=[secret])
        state = flow.run(context={"checkpointing": True})
    assert state.result[secret].result == "token-1234"
    assert isinstance(state.result[secret]._result, SecretResult)


def test_secret_tasks_refuse_a_result_type_and_need_a_name() -> None:
    with pytest.raises(ValueError, match="not configurable"):
        PrefectSecret("X", result=LocalResult())
    with pytest.raises(ValueError, match="A secret name must be provided"):
        PrefectSecret().run()
    with pytest.raises(ValueError, match="cannot be written"):
        PrefectSecret("X").result.write("value")


def test_env_var_secret_casts_and_may_insist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_NUMBER", "8080")
    assert EnvVarSecret("PORT_NUMBER", cast=int).run() == 8080
    assert EnvVarSecret("NOT_SET_ANYWHERE").run() is None
    with pytest.raises(ValueError, match="Environment variable not set: NOT_SET_ANYWHERE"):
        EnvVarSecret("NOT_SET_ANYWHERE", raise_if_missing=True).run()
