"""The official OpenTelemetry Python SDK + OTLP/gRPC exporter (grpcio) against a real Spindle:
the same scenario as the HTTP test, over TraceService/Export on Spindle's gRPC port."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export import SpanExportResult

from sdk_scenario import assert_scenario_shape, assert_stored_as_sent, emit_traces, get_tracer, make_provider


def test_grpc_spans_are_stored_field_for_field(spindle):
    exporter = OTLPSpanExporter(endpoint=spindle.grpc_target, insecure=True)
    provider, memory = make_provider(SimpleSpanProcessor(exporter))

    emit_traces(get_tracer(provider))
    sent_spans = memory.get_finished_spans()
    provider.shutdown()

    assert_scenario_shape(sent_spans)
    assert_stored_as_sent(spindle, sent_spans)


def test_grpc_gzip_batch_is_stored_field_for_field(spindle):
    from grpc import Compression

    exporter = OTLPSpanExporter(endpoint=spindle.grpc_target, insecure=True, compression=Compression.Gzip)
    provider, memory = make_provider(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))

    emit_traces(get_tracer(provider))
    assert provider.force_flush(timeout_millis=10_000)
    sent_spans = memory.get_finished_spans()
    provider.shutdown()

    assert_stored_as_sent(spindle, sent_spans)


def test_grpc_export_result_is_success(spindle):
    """The exporter reads Spindle's answer as a success (not a retryable failure)."""
    exporter = OTLPSpanExporter(endpoint=spindle.grpc_target, insecure=True)
    provider, memory = make_provider(SimpleSpanProcessor(exporter))
    emit_traces(get_tracer(provider))
    sent_spans = memory.get_finished_spans()
    assert exporter.export(sent_spans) is SpanExportResult.SUCCESS  # a re-send: stored once
    provider.shutdown()
    assert spindle.count("spans") == len(sent_spans)
