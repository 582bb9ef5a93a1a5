"""A fake RAG pipeline, traced with the stock OpenTelemetry Python SDK.

Each question becomes one trace:

    rag.answer
    ├── rag.retrieve        (a fake vector search)
    ├── chat fake-llm-mini  (a fake model call: a CLIENT span with gen_ai.* attributes)
    └── rag.postprocess

Spans go to an OTLP/HTTP collector such as Spindle. The exporter reads
OTEL_EXPORTER_OTLP_ENDPOINT itself; this app only supplies a default.

    python app.py            # three questions
    python app.py 20         # twenty
"""

from __future__ import annotations

import os
import random
import sys
import time

os.environ.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer  # noqa: E402

MODEL = "fake-llm-mini"
DOCUMENTS = {
    "doc-001": "Spindle stores OTLP spans in SQLite.",
    "doc-002": "OTLP/HTTP listens on port 4318 by default.",
    "doc-003": "Traces are trees of spans sharing one trace id.",
    "doc-004": "A span records a name, a kind, timestamps and attributes.",
    "doc-005": "Retrieval-augmented generation feeds retrieved text to a model.",
}
QUESTIONS = [
    "Where does Spindle keep my spans?",
    "Which port does OTLP/HTTP use?",
    "What is a trace?",
    "Explain retrieval-augmented generation in one sentence.",
]


def fake_latency(low_ms: float, high_ms: float) -> None:
    time.sleep(random.uniform(low_ms, high_ms) / 1000)


def retrieve(tracer: Tracer, question: str, top_k: int = 3) -> list[str]:
    with tracer.start_as_current_span("rag.retrieve") as span:
        span.set_attribute("retrieval.query", question)
        span.set_attribute("retrieval.top_k", top_k)
        fake_latency(5, 20)
        ranked = random.sample(sorted(DOCUMENTS), k=top_k)
        scores = sorted((round(random.uniform(0.5, 0.99), 3) for _ in ranked), reverse=True)
        span.set_attribute("retrieval.document_ids", ranked)
        span.set_attribute("retrieval.scores", scores)
        span.add_event("retrieval.done", {"retrieval.hits": len(ranked)})
        return [DOCUMENTS[doc_id] for doc_id in ranked]


def call_llm(tracer: Tracer, question: str, context: list[str], fail: bool) -> str:
    prompt = "\n".join(context) + f"\n\nQ: {question}\nA:"
    with tracer.start_as_current_span(f"chat {MODEL}", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", MODEL)
        span.set_attribute("gen_ai.request.temperature", 0.2)
        span.set_attribute("gen_ai.usage.input_tokens", len(prompt.split()))
        fake_latency(30, 120)
        if fail:
            span.add_event("gen_ai.error", {"error.type": "rate_limited", "retry_after_s": 2.0})
            span.set_status(Status(StatusCode.ERROR, "429: rate limited by the fake provider"))
            return ""
        answer = context[0]
        span.set_attribute("gen_ai.usage.output_tokens", len(answer.split()))
        span.set_attribute("gen_ai.response.finish_reasons", ["stop"])
        return answer


def postprocess(tracer: Tracer, answer: str) -> str:
    with tracer.start_as_current_span("rag.postprocess") as span:
        fake_latency(1, 5)
        cleaned = answer.strip() or "Sorry, I could not answer that."
        span.set_attribute("postprocess.chars", len(cleaned))
        span.set_attribute("postprocess.fallback", not answer)
        return cleaned


def answer(tracer: Tracer, question: str, fail: bool) -> str:
    with tracer.start_as_current_span("rag.answer", kind=SpanKind.SERVER) as span:
        span.set_attribute("rag.question", question)
        context = retrieve(tracer, question)
        reply = postprocess(tracer, call_llm(tracer, question, context, fail))
        span.set_attribute("rag.answer", reply)
        return reply


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    resource = Resource.create({"service.name": "fake-rag", "service.version": "0.1.0"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracer = provider.get_tracer("fake-rag.pipeline", "0.1.0")

    for n in range(count):
        question = QUESTIONS[n % len(QUESTIONS)]
        fail = n % 5 == 4  # every fifth call hits a (fake) rate limit
        print(f"Q: {question}\nA: {answer(tracer, question, fail)}\n")

    provider.shutdown()  # flushes the last batch; failed exports are logged to stderr
    print(f"done: {count} trace(s), {count * 4} spans handed to the OTLP/HTTP exporter")


if __name__ == "__main__":
    main()
