"""Which tracer provider an app uses: one installed already, or one made from ``OTEL_*``.

A provider somebody installed (``opentelemetry-instrument``, the app's own setup code)
wins. Otherwise, when the environment asks for traces (``OTEL_TRACES_EXPORTER``,
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), the SDK (the
``otel`` extra) builds one from the standard variables: the exporters, the sampler
(``OTEL_TRACES_SAMPLER``), the service name and resource (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``), the batching (``OTEL_BSP_*``).
It is installed globally, once per process, so user code's own spans join the traces.
``OTEL_SDK_DISABLED=true`` turns tracing off whatever else is set.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from opentelemetry import trace

from motia._core.spans import asks_for_traces

__all__ = ["configured_provider"]

log = logging.getLogger("motia.tracing")
_DEFAULT_SERVICE = "motia"


def configured_provider() -> Any | None:
    """The provider to trace with, or None when tracing is off."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    installed = trace.get_tracer_provider()
    if not isinstance(installed, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return installed
    if not asks_for_traces():
        return None
    exporters = _exporter_names()
    if not exporters:
        return None
    try:
        provider = _sdk_provider(exporters)
    except ImportError as exc:
        log.warning(
            "OTEL_* variables ask for traces, but %s: "
            "pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http",
            exc,
        )
        return None
    except ValueError as exc:
        log.warning("OTEL_TRACES_EXPORTER: %s; tracing stays off", exc)
        return None
    trace.set_tracer_provider(provider)
    return provider


def _exporter_names() -> list[str]:
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
    return [name.strip() for name in names.split(",") if name.strip() not in ("", "none")]


def _sdk_provider(exporters: list[str]) -> Any:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _DEFAULT_SERVICE}))
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return provider


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"no span exporter named {name!r} is known (use otlp or console)")
    protocol = os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    wire = "grpc" if protocol == "grpc" else "http"
    exporters = importlib.import_module(f"opentelemetry.exporter.otlp.proto.{wire}.trace_exporter")
    return exporters.OTLPSpanExporter()
