"""The `Result` base and `NoResult` (Prefect 1's `prefect.engine.result`); the storing result
types are in `flowlight.engine.results`."""

from flowlight.engine.result.base import NoResult, NoResultType, Result, ResultNotImplementedError

__all__ = ["NoResult", "NoResultType", "Result", "ResultNotImplementedError"]
