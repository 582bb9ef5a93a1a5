"""One LLM call made by the real `openai` client under a real instrumentation, exported to Spindle.

Run in a subprocess (the instrumentations patch the `openai` module and read their settings
from the environment once, so every run needs a fresh interpreter):

    python llm_scenario.py INSTRUMENTATION ENDPOINT BASE_URL MODE [--dump-spans FILE]

INSTRUMENTATION  openai-v2 (opentelemetry-instrumentation-openai-v2)
                 | openinference (openinference-instrumentation-openai)
ENDPOINT         Spindle's HTTP endpoint (OTLP/HTTP protobuf to ENDPOINT/v1/traces); `-` exports
                 nowhere (with --dump-spans, to look at what an instrumentation emits)
BASE_URL         the OpenAI-compatible server, e.g. fake_openai.FakeOpenAI().base_url
MODE             plain            one non-streaming chat call
                 cached           the same call; the server is expected to report cached tokens
                 stream-no-usage  a streaming call without stream_options: no usage comes back
                 stream-usage     a streaming call with stream_options.include_usage

The call (a system and a user message, temperature 0.2, top_p 0.9, max_tokens 64) runs inside a
parent span "agent-run". Prints the trace id (32 hex digits) on stdout. --dump-spans also writes
every finished span, as the SDK holds it, to FILE as JSON.
"""

from __future__ import annotations

import json
import os
import sys

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = "You are a terse assistant that answers questions about Spindle."
USER_PROMPT = "Where does Spindle keep the spans it receives?"
PARAMETERS = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 64}
PARENT_SPAN = "agent-run"
API_KEY = "sk-spindle-fake"  # the fake server ignores it; the client insists on one

INSTRUMENTATIONS = ("openai-v2", "openinference")
MODES = ("plain", "cached", "stream-no-usage", "stream-usage")

# What opentelemetry-instrumentation-openai-v2 needs to put message content on the span (as
# gen_ai.input.messages / gen_ai.output.messages / gen_ai.system_instructions); without these it
# records model, parameters and usage only. Read once, when it instruments.
OPENAI_V2_ENVIRONMENT = {
    "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
}


def service_name(instrumentation: str) -> str:
    return f"spindle-interop-llm-{instrumentation}"


def messages() -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": USER_PROMPT}]


def _instrument(instrumentation: str, tracer_provider) -> None:
    if instrumentation == "openai-v2":
        os.environ.update(OPENAI_V2_ENVIRONMENT)
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)


def _chat(client, mode: str) -> str:
    """The one chat call; returns the reply text."""
    stream = mode.startswith("stream")
    extra = {"stream": True} if stream else {}
    if mode == "stream-usage":
        extra["stream_options"] = {"include_usage": True}
    response = client.chat.completions.create(model=MODEL, messages=messages(), **PARAMETERS, **extra)
    if not stream:
        return response.choices[0].message.content
    # The instrumentations end the span when the stream is exhausted (or closed).
    with response:
        return "".join(chunk.choices[0].delta.content or "" for chunk in response if chunk.choices)


def _span_json(span) -> dict:
    context = span.get_span_context()
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "scope": span.instrumentation_scope.name,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes),
        "events": [{"name": event.name, "attributes": dict(event.attributes)} for event in span.events],
        "resource": dict(span.resource.attributes),
    }


def run(instrumentation: str, endpoint: str, base_url: str, mode: str, dump_path: str | None = None) -> str:
    """Make the call, flush the spans; returns the trace id as hex."""
    from openai import OpenAI
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service_name(instrumentation)}))
    if endpoint != "-":
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    memory = InMemorySpanExporter()
    if dump_path:
        provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    _instrument(instrumentation, provider)

    client = OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=30)
    with provider.get_tracer("spindle.interop.llm").start_as_current_span(PARENT_SPAN) as parent:
        reply = _chat(client, mode)
    if not reply:
        raise SystemExit("the openai client got an empty reply")

    if not provider.force_flush(timeout_millis=10_000):
        raise SystemExit("spans were not flushed within 10 s")
    if dump_path:
        with open(dump_path, "w") as dump:
            json.dump([_span_json(span) for span in memory.get_finished_spans()], dump, indent=2)
    provider.shutdown()
    return f"{parent.get_span_context().trace_id:032x}"


def main(argv: list[str]) -> int:
    args = argv[1:]
    dump_path = None
    if "--dump-spans" in args:
        at = args.index("--dump-spans")
        dump_path = args[at + 1]
        del args[at : at + 2]
    if len(args) != 4 or args[0] not in INSTRUMENTATIONS or args[3] not in MODES:
        print(__doc__, file=sys.stderr)
        return 2
    instrumentation, endpoint, base_url, mode = args
    print(run(instrumentation, endpoint, base_url, mode, dump_path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
