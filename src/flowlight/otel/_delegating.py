"""Global providers that forward to the bridge's current providers, so reconfiguring keeps them.

OpenTelemetry's API lets a process set each global provider once. The bridge builds new SDK
providers on every `configure()` and shuts the previous ones down; had it installed those as the
globals, an application's tracers, meters and loggers (usually fetched once, at import) would
keep recording into a provider that is shut down, and lose everything after a second
`configure()`. So the globals the bridge installs are these delegates: a tracer, meter or logger
obtained from them looks up the bridge's current provider on each call (and, for metrics, creates
its instruments there again), and after `shutdown()` records nothing until the next `configure()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import _logs, metrics, trace

__all__ = ["DelegatingLoggerProvider", "DelegatingMeterProvider", "DelegatingTracerProvider"]


class _Target:
    """The provider currently delegated to, and a generation that changes with it."""

    def __init__(self) -> None:
        self.provider: Any = None
        self.generation = 0
        self.lock = threading.Lock()

    def point_to(self, provider: Any) -> None:
        with self.lock:
            self.provider = provider
            self.generation += 1

    def release(self, provider: Any) -> None:
        """Stop delegating to `provider` (it is being shut down); other targets are kept."""
        with self.lock:
            if self.provider is provider:
                self.provider = None
                self.generation += 1


class _PassThrough:
    """`force_flush` and `shutdown`, as an application calls them on the SDK provider it believes
    is global, handed to the provider currently delegated to (nothing to do without one)."""

    target: _Target

    def force_flush(self, *args: Any, **kwargs: Any) -> bool:
        provider = self.target.provider
        return True if provider is None else bool(provider.force_flush(*args, **kwargs))

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        provider = self.target.provider
        if provider is not None:
            provider.shutdown(*args, **kwargs)


class _PerGeneration:
    """A value made from the current target, made again when the target changes."""

    def __init__(self, target: _Target, make: Callable[[Any], Any]) -> None:
        self._target = target
        self._make = make
        self._cached: tuple[int, Any] | None = None

    def get(self) -> Any:
        generation, provider = self._target.generation, self._target.provider
        cached = self._cached
        if cached is None or cached[0] != generation:
            cached = (generation, self._make(provider))
            self._cached = cached
        return cached[1]


# --- traces -------------------------------------------------------------------------------------


class DelegatingTracerProvider(_PassThrough, trace.TracerProvider):
    def __init__(self) -> None:
        self.target = _Target()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _DelegatingTracer(self.target, args, kwargs)


class _DelegatingTracer(trace.Tracer):
    def __init__(self, target: _Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._tracer = _PerGeneration(
            target,
            lambda provider: (
                trace.NoOpTracer() if provider is None else provider.get_tracer(*args, **kwargs)
            ),
        )

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        span: trace.Span = self._tracer.get().start_span(*args, **kwargs)
        return span

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer.get().start_as_current_span(*args, **kwargs)


# --- logs ---------------------------------------------------------------------------------------


class DelegatingLoggerProvider(_PassThrough, _logs.LoggerProvider):
    def __init__(self) -> None:
        self.target = _Target()

    def get_logger(self, *args: Any, **kwargs: Any) -> _logs.Logger:
        return _DelegatingLogger(self.target, args, kwargs)


class _DelegatingLogger(_logs.Logger):
    def __init__(self, target: _Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__(str(args[0] if args else kwargs.get("name", "")))
        self._logger = _PerGeneration(
            target,
            lambda provider: (
                _logs.NoOpLogger(self._name)
                if provider is None
                else provider.get_logger(*args, **kwargs)
            ),
        )

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self._logger.get().emit(*args, **kwargs)

    def enabled(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._logger.get().enabled(*args, **kwargs))


# --- metrics ------------------------------------------------------------------------------------


class DelegatingMeterProvider(_PassThrough, metrics.MeterProvider):
    def __init__(self) -> None:
        self.target = _Target()
        self._meters: list[_DelegatingMeter] = []
        self._lock = threading.Lock()

    def get_meter(self, *args: Any, **kwargs: Any) -> metrics.Meter:
        meter = _DelegatingMeter(self.target, args, kwargs)
        with self._lock:
            self._meters.append(meter)
        return meter

    def point_to(self, provider: Any) -> None:
        """Delegate to `provider`, and register every observable instrument's callbacks there."""
        self.target.point_to(provider)
        with self._lock:
            meters = list(self._meters)
        for meter in meters:
            meter.observe_on(provider)


class _DelegatingMeter(metrics.Meter):
    def __init__(self, target: _Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__(str(args[0] if args else kwargs.get("name", "")))
        self._args = args
        self._kwargs = kwargs
        self._target = target
        self._meter = _PerGeneration(target, self._meter_of)
        self._observables: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _meter_of(self, provider: Any) -> Any:
        if provider is None:
            return metrics.NoOpMeter(self.name)
        return provider.get_meter(*self._args, **self._kwargs)

    def _forward(self, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _PerGeneration(
            self._target, lambda _provider: getattr(self._meter.get(), factory)(*args, **kwargs)
        )

    def observe_on(self, provider: Any) -> None:
        if provider is None:
            return
        meter = self._meter_of(provider)
        for factory, args, kwargs in list(self._observables):
            getattr(meter, factory)(*args, **kwargs)

    def _observable(self, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._observables.append((factory, args, kwargs))
        provider = self._target.provider
        if provider is not None:
            getattr(self._meter_of(provider), factory)(*args, **kwargs)

    def create_counter(self, *args: Any, **kwargs: Any) -> metrics.Counter:
        return _Counter(self._forward("create_counter", args, kwargs))

    def create_up_down_counter(self, *args: Any, **kwargs: Any) -> metrics.UpDownCounter:
        return _UpDownCounter(self._forward("create_up_down_counter", args, kwargs))

    def create_histogram(self, *args: Any, **kwargs: Any) -> metrics.Histogram:
        return _Histogram(self._forward("create_histogram", args, kwargs))

    def create_gauge(self, *args: Any, **kwargs: Any) -> metrics._Gauge:
        return _Gauge(self._forward("create_gauge", args, kwargs))

    def create_observable_counter(self, *args: Any, **kwargs: Any) -> metrics.ObservableCounter:
        self._observable("create_observable_counter", args, kwargs)
        return metrics.NoOpObservableCounter(_name(args, kwargs))

    def create_observable_up_down_counter(
        self, *args: Any, **kwargs: Any
    ) -> metrics.ObservableUpDownCounter:
        self._observable("create_observable_up_down_counter", args, kwargs)
        return metrics.NoOpObservableUpDownCounter(_name(args, kwargs))

    def create_observable_gauge(self, *args: Any, **kwargs: Any) -> metrics.ObservableGauge:
        self._observable("create_observable_gauge", args, kwargs)
        return metrics.NoOpObservableGauge(_name(args, kwargs))


def _name(args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    return str(args[0] if args else kwargs.get("name", ""))


class _Counter(metrics.Counter):
    def __init__(self, real: _PerGeneration) -> None:
        self._real = real

    def add(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().add(*args, **kwargs)


class _UpDownCounter(metrics.UpDownCounter):
    def __init__(self, real: _PerGeneration) -> None:
        self._real = real

    def add(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().add(*args, **kwargs)


class _Histogram(metrics.Histogram):
    def __init__(self, real: _PerGeneration) -> None:
        self._real = real

    def record(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().record(*args, **kwargs)


class _Gauge(metrics._Gauge):
    def __init__(self, real: _PerGeneration) -> None:
        self._real = real

    def set(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().set(*args, **kwargs)
