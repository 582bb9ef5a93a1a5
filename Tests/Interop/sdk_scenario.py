"""The span scenario the SDK interop tests share: what is sent, and how it must come back.

Every span is exported twice on the same TracerProvider: to Spindle and to an
in-memory exporter. The in-memory copy is what was sent; each one must come
back from Spindle's SQLite file field for field.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from spindle_helpers import assert_same_fields

SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
SCOPE_SCHEMA_URL = "https://opentelemetry.io/schemas/1.24.0"

# An incoming W3C context, as a server would receive it: trace B continues it.
INCOMING_HEADERS = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "spindle=interop,rojo=00f067aa0ba902b7",
}

OTLP_SPAN_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}

# Span.flags as the OTLP exporter encodes them: the "context has is_remote" bit,
# plus "is_remote" when the parent (or linked) context is remote. The Python
# exporter does not put the W3C trace flags in the low byte.
HAS_IS_REMOTE = 0x100
IS_REMOTE = 0x200

EVERY_ATTRIBUTE_TYPE = {
    "str": "naïve café ☕",
    "str.empty": "",
    "bool.true": True,
    "bool.false": False,
    "int": 42,
    "int.negative": -7,
    "int.large": 2**62 + 1,
    "float": 0.1,
    "float.negative": -2.5e-300,
    "float.whole": 3.0,
    "seq.str": ["alpha", "", "γ"],
    "seq.bool": [True, False, True],
    "seq.int": [1, -2, 2**53 + 1],
    "seq.float": [1.5, -0.25, 1e100],
}


def make_provider(otlp_processor: SpanProcessor) -> tuple[TracerProvider, InMemorySpanExporter]:
    resource = Resource.create(
        {
            "service.name": "spindle-interop-sdk",
            "service.version": "1.2.3",
            "deployment.environment.name": "test",
            "host.cpu.count": 2,
            "feature.gpu": False,
            "sample.ratio": 0.25,
            "service.tags": ["rag", "interop"],
        },
        schema_url=SCHEMA_URL,
    )
    provider = TracerProvider(resource=resource)
    memory = InMemorySpanExporter()
    provider.add_span_processor(otlp_processor)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def get_tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer(
        "spindle.interop.sdk",
        "0.4.2",
        schema_url=SCOPE_SCHEMA_URL,
        attributes={"scope.purpose": "interop", "scope.level": 3},
    )


def emit_traces(tracer: Tracer) -> None:
    """Two traces. A: submit-job (true root) > enqueue-job.
    B (continuing INCOMING_HEADERS): process-job, linked to enqueue-job,
    > retrieve > vector-search, and process-job > llm-call (an error)."""
    with tracer.start_as_current_span("submit-job", kind=SpanKind.SERVER, attributes={"http.method": "POST"}):
        with tracer.start_as_current_span("enqueue-job", kind=SpanKind.PRODUCER) as enqueue:
            enqueue.set_attribute("queue.name", "jobs")
            enqueue_context = enqueue.get_span_context()

    remote_reply = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C, span_id=0xB7AD6B7169203331, is_remote=True
    )
    incoming = TraceContextTextMapPropagator().extract(INCOMING_HEADERS)
    with tracer.start_as_current_span(
        "process-job",
        context=incoming,
        kind=SpanKind.CONSUMER,
        links=[
            Link(enqueue_context, {"link.reason": "dequeued", "link.attempt": 2}),
            Link(remote_reply, {"link.reason": "reply-to", "link.sampled": True}),
        ],
    ) as process:
        process.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span("retrieve", attributes=EVERY_ATTRIBUTE_TYPE) as retrieve:
            retrieve.add_event("cache.miss", {"cache.key": "q:42", "cache.age_s": 1.5, "cache.hits": [0, 1]})
            retrieve.add_event("no-attributes")
            retrieve.add_event("explicit-time", {"flag": True}, timestamp=1_700_000_000_123_456_789)
            with tracer.start_as_current_span("vector-search", kind=SpanKind.CLIENT) as search:
                search.set_attributes({"db.system": "sqlite-vec", "k": 8, "scores": [0.91, 0.87]})
        with tracer.start_as_current_span(
            "llm-call", kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False
        ) as llm:
            llm.set_attribute("gen_ai.request.model", "fake-1")
            llm.record_exception(TimeoutError("no answer in 30s"), {"retry": False})
            llm.set_status(Status(StatusCode.ERROR, "model timed out after 30s"))


# --- what was sent, in the shape of spindle_helpers.stored_spans ----------------------


def otlp_flags(parent: SpanContext | None) -> int:
    if parent is None:
        return HAS_IS_REMOTE
    return HAS_IS_REMOTE | (IS_REMOTE if parent.is_remote else 0)


def sent_span(span: ReadableSpan) -> dict:
    context = span.get_span_context()
    return {
        "project": "default",
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "trace_state": context.trace_state.to_header(),
        "flags": otlp_flags(span.parent),
        "name": span.name,
        "kind": OTLP_SPAN_KIND[span.kind],
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "status_code": span.status.status_code.value,
        "status_message": span.status.description or "",
        "attributes": dict(span.attributes),
        "dropped_attributes_count": span.dropped_attributes,
        "events": [
            {
                "time_unix_nano": event.timestamp,
                "name": event.name,
                "attributes": dict(event.attributes),
                "dropped_attributes_count": event.dropped_attributes,
            }
            for event in span.events
        ],
        "dropped_events_count": span.dropped_events,
        "links": [
            {
                "trace_id": f"{link.context.trace_id:032x}",
                "span_id": f"{link.context.span_id:016x}",
                "trace_state": link.context.trace_state.to_header(),
                "attributes": dict(link.attributes),
                "dropped_attributes_count": link.dropped_attributes,
                "flags": otlp_flags(link.context),
            }
            for link in span.links
        ],
        "dropped_links_count": span.dropped_links,
        "resource": {
            "attributes": dict(span.resource.attributes),
            "dropped_attributes_count": 0,
            "schema_url": span.resource.schema_url,
            "service_name": span.resource.attributes["service.name"],
        },
        "scope": {
            "name": span.instrumentation_scope.name,
            "version": span.instrumentation_scope.version,
            "attributes": dict(span.instrumentation_scope.attributes),
            "dropped_attributes_count": 0,
            "schema_url": span.instrumentation_scope.schema_url,
        },
    }


def assert_stored_as_sent(spindle, sent_spans: tuple[ReadableSpan, ...]) -> None:
    assert len(sent_spans) == 6, "the scenario should have produced six spans"
    stored = spindle.spans()
    assert len(stored) == len(sent_spans)
    for span in sent_spans:
        expected = sent_span(span)
        key = (expected["trace_id"], expected["span_id"])
        assert key in stored, f"span {span.name!r} {key} was not stored"
        assert_same_fields(stored[key], expected, f"span {span.name!r}")


def assert_scenario_shape(sent_spans: tuple[ReadableSpan, ...]) -> None:
    """Guards the scenario itself, so the comparison covers what it claims to."""
    by_name = {span.name: span for span in sent_spans}
    assert by_name["submit-job"].parent is None
    assert by_name["process-job"].parent.is_remote
    assert by_name["process-job"].get_span_context().trace_state.to_header() == INCOMING_HEADERS["tracestate"]
    assert by_name["vector-search"].parent.span_id == by_name["retrieve"].get_span_context().span_id
    assert by_name["llm-call"].status.status_code is StatusCode.ERROR
    assert {span.kind for span in sent_spans} == set(OTLP_SPAN_KIND)
