"""OpenTelemetry tracing, on only when an OTLP endpoint is configured.

Off (the default), nothing of OpenTelemetry is imported and `enabled()` is one global read, so the hooks
in `observe` cost nothing measurable. On, spans cover each HTTP request (FastAPI's own telemetry), each
database statement (the SQLAlchemy instrumentation), each guard scan and each upstream model call, and
log records carry the trace id (`current_trace_id`). Spans carry ids, models, categories and statuses;
never message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

E = TypeVar("E")
SERVICE_NAME = "chatkeep"
_provider: TracerProvider | None = None
_tracer: Any = None


class TracingUnavailable(RuntimeError):
    """Tracing was asked for, but the OpenTelemetry packages (the `tracing` extra) are not installed."""


def endpoint_from(configured: str | None) -> str | None:
    """The OTLP endpoint to export to: chatkeep's setting, else OpenTelemetry's own variables, else None."""
    return (
        configured
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or None
    )


def enabled() -> bool:
    """Whether spans are being recorded."""
    return _tracer is not None


def start(*, endpoint: str | None = None, exporter: SpanExporter | None = None) -> TracerProvider:
    """Begin recording spans, exported in batches over OTLP/HTTP to `endpoint` (or to `exporter`, at once:
    tests pass an in-memory one). Replaces an earlier provider, whose pending spans are flushed."""
    global _provider, _tracer
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable("tracing needs OpenTelemetry: pip install 'chatkeep[tracing]'") from exc
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # OTEL_EXPORTER_OTLP_ENDPOINT is a base URL to which the exporter adds /v1/traces itself.
        url = (
            endpoint.rstrip("/") + "/v1/traces"
            if endpoint and not endpoint.endswith("/v1/traces")
            else endpoint
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    stop()
    _provider = provider
    _tracer = provider.get_tracer("chatkeep")
    return provider


def stop() -> None:
    """Stop recording; spans still queued are exported first."""
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, None


def fastapi_telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry settings (`FastAPI(telemetry=…)`): a server span per HTTP request (with
    spans for dependencies and the endpoint) on our provider when tracing is on; nothing when it is off.

    FastAPI's metrics stay off (Prometheus has ours) and so do its logs, which would carry exception
    messages, and with them request content, to the collector.
    """
    if _provider is None:
        return {"tracing": False, "metrics": False, "logs": False}
    return {
        "tracer_provider": _provider,
        "metrics": False,
        "logs": False,
        "exclude": _unsampled_path,
    }


def _unsampled_path(scope: Any) -> bool:
    # Probes and scrapes arrive every few seconds and say nothing about the work being done.
    return scope.get("path") in ("/metrics", "/healthz", "/readyz")


def instrument_engine(engine: AsyncEngine) -> None:
    """Open a client span for every statement `engine` runs (a no-op when tracing is off)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    # The instrumentor is a process-wide singleton; a second app in the same process (tests) re-arms it.
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    # The instrumentation declares support for SQLAlchemy < 2.1 only; it works through the engine's event
    # hooks, unchanged in 2.1, and the tests check its spans arrive (test_tracing), so the check is skipped.
    instrumentor.instrument(
        engine=engine.sync_engine, tracer_provider=_provider, enable_commenter=False, skip_dep_check=True
    )


@contextlib.contextmanager
def span(name: str, attributes: dict[str, Any] | None = None) -> Iterator[Any]:
    """A span around a block, child of the current one. Only call when `enabled()`."""
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


@contextlib.contextmanager
def statement_span(statement: str, system: str) -> Iterator[Any]:
    """A client span for a statement run on the driver directly (storage.direct), named and described as
    the SQLAlchemy instrumentation describes the others. Only call when `enabled()`."""
    from opentelemetry.trace import SpanKind

    verb = statement.split(None, 1)[0] if statement else "SQL"
    attributes = {"db.statement": statement, "db.system": system}
    with _tracer.start_as_current_span(verb, kind=SpanKind.CLIENT, attributes=attributes) as current:
        yield current


async def spanned_stream(events: AsyncIterator[E], name: str, attributes: dict[str, Any]) -> AsyncIterator[E]:
    """`events` passed through inside one span, from the first item asked for to the stream's end.

    The span is not made current: an async generator's context belongs to whoever iterates it, so
    attaching it across `yield` would leak it into the caller.
    """
    from opentelemetry.trace import Status, StatusCode

    current = _tracer.start_span(name, attributes=attributes)
    count = 0
    try:
        async for event in events:
            count += 1
            yield event
    except (GeneratorExit, asyncio.CancelledError):
        current.set_attribute("chatkeep.cancelled", True)  # the client left: not an upstream error
        raise
    except Exception as exc:
        current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        current.set_attribute("chatkeep.events", count)
        current.end()
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def current_trace_id() -> str | None:
    """The current span's trace id in hex (as tracing backends show it), or None."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
