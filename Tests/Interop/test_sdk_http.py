"""The official OpenTelemetry Python SDK + OTLP/HTTP exporter against a real Spindle.

Every span is exported twice on the same TracerProvider: to Spindle and to an
in-memory exporter. The in-memory copy is what was sent; each one must come
back from Spindle's SQLite file field for field (see sdk_scenario.py).
"""

from __future__ import annotations

import requests
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from sdk_scenario import assert_scenario_shape, assert_stored_as_sent, emit_traces, get_tracer, make_provider


class ResponseRecorder:
    """A requests.Session that records (Content-Encoding sent, status received)."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.exchanges: list[tuple[str | None, int]] = []
        self.session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args, **kwargs) -> None:
        self.exchanges.append((response.request.headers.get("Content-Encoding"), response.status_code))



def test_sdk_spans_are_stored_field_for_field(spindle):
    recorder = ResponseRecorder()
    exporter = OTLPSpanExporter(endpoint=f"{spindle.endpoint}/v1/traces", session=recorder.session)
    provider, memory = make_provider(SimpleSpanProcessor(exporter))

    emit_traces(get_tracer(provider))
    sent_spans = memory.get_finished_spans()
    provider.shutdown()

    assert_scenario_shape(sent_spans)
    assert recorder.exchanges == [(None, 200)] * len(sent_spans)  # one request per span
    assert_stored_as_sent(spindle, sent_spans)
    assert spindle.count("resources") == 1
    assert spindle.count("scopes") == 1


def test_sdk_gzip_batch_is_stored_field_for_field(spindle):
    recorder = ResponseRecorder()
    exporter = OTLPSpanExporter(
        endpoint=f"{spindle.endpoint}/v1/traces", compression=Compression.Gzip, session=recorder.session
    )
    provider, memory = make_provider(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))

    emit_traces(get_tracer(provider))
    assert provider.force_flush(timeout_millis=10_000)
    sent_spans = memory.get_finished_spans()
    provider.shutdown()

    assert recorder.exchanges == [("gzip", 200)]  # the whole batch in one request
    assert_stored_as_sent(spindle, sent_spans)
