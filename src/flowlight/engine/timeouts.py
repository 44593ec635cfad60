"""Task timeouts that stop the task's work, not only the wait for it.

A user sets `timeout=` to stop runaway work, so when the time is up the body is interrupted: an
exception is raised inside it, its `finally` blocks run, and nothing after the interrupted line
happens. How depends on the thread the task runs in:

- In a process's main thread (the local executor, a process pool's workers) a real-time alarm
  (`signal.setitimer` with SIGALRM, as Prefect 1 does with `signal.alarm`) interrupts the body
  where it is, a blocking `time.sleep` or lock wait included; the run ends `TimedOut` at once.
- In any other thread (thread pools, Dask workers, a flow run started from a thread) the body
  runs in a helper thread; when the time is up the run ends `TimedOut` at once and the helper gets
  an asynchronous exception (`PyThreadState_SetAsyncExc`), raised at its next Python instruction.
  A call blocked inside C (a `time.sleep`, a socket read) finishes first, and the body stops as
  soon as it returns; the helper is a daemon thread, so it never keeps the interpreter alive.

The interruption is `TaskTimedOut`, a `BaseException`, so a body's `except Exception:` does not
swallow it (a bare `except:` still can).
"""

from __future__ import annotations

import contextvars
import ctypes
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TaskTimedOut", "call_with_timeout"]


class TaskTimedOut(BaseException):
    """Raised inside a task body whose timeout has passed."""


def call_with_timeout(call: Callable[[], Any], seconds: float, name: str) -> Any:
    """Return `call()`, or raise `TaskTimedOut` once `seconds` have passed, having interrupted the
    call. `name` names the helper thread (`flowlight-timeout-<name>`) when one is used."""
    if _alarm_is_free(seconds):
        return _call_with_alarm(call, seconds)
    return _call_in_interruptible_thread(call, seconds, name)


def _alarm_is_free(seconds: float) -> bool:
    """The alarm can be used in the main thread where signals exist, unless a real-time timer set
    by someone else (an enclosing timeout, pytest-timeout) would go off before ours: that one is
    left alone and the thread path used instead."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return False
    armed, _ = signal.getitimer(signal.ITIMER_REAL)
    return armed == 0 or armed > seconds


def _interrupt(signum: int, frame: Any) -> None:
    raise TaskTimedOut()


def _call_with_alarm(call: Callable[[], Any], seconds: float) -> Any:
    """Run `call` under a SIGALRM timer; an enclosing timer gets back the time it had left."""
    previous_handler = signal.signal(signal.SIGALRM, _interrupt)
    started = time.monotonic()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the handler was set outside Python; the default is the closest we can put back.
        signal.signal(
            signal.SIGALRM, signal.SIG_DFL if previous_handler is None else previous_handler
        )
        if outer_delay:
            left = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), outer_interval)


def _call_in_interruptible_thread(call: Callable[[], Any], seconds: float, name: str) -> Any:
    outcome: dict[str, Any] = {}
    run_context = contextvars.copy_context()  # the body sees the task run's context

    def body() -> None:
        try:
            outcome["value"] = run_context.run(call)
        except BaseException as exc:
            outcome["error"] = exc

    helper = threading.Thread(target=body, name=f"flowlight-timeout-{name}", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        _raise_in_thread(helper)
        raise TaskTimedOut()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _raise_in_thread(helper: threading.Thread) -> None:
    """Ask the interpreter to raise `TaskTimedOut` in `helper` at its next instruction."""
    assert helper.ident is not None  # the thread was started
    ident = ctypes.c_ulong(helper.ident)
    changed = ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(TaskTimedOut))
    if changed > 1:  # the C API's contract: more than one thread hit means undo it
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, None)
