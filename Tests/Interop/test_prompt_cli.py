"""`spindle prompts` and `spindle monitor-events` on calls recorded with the stock OTel SDK.

Six chat calls of prompt `support-answer` (three of version 1, three of version 2) are sent as GenAI
spans; one has an evaluation score below 0.3. The CLI, reading the database while the server runs,
must list the prompt, compare the versions and find the flagged event.
"""

from __future__ import annotations

import json
import subprocess

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from conftest import SPINDLE_BIN

BASE_NS = 1_750_000_000_000_000_000
# (version, latency ms, input tokens, output tokens, relevance score)
CALLS = [
    ("1", 400, 120, 40, 0.9),
    ("1", 600, 130, 45, 0.8),
    ("1", 800, 110, 50, 0.1),
    ("2", 200, 90, 30, 0.95),
    ("2", 300, 95, 35, 0.85),
    ("2", 250, 100, 32, 0.9),
]


def run_cli(*args: str) -> str:
    result = subprocess.run([SPINDLE_BIN, *args], capture_output=True, check=False)
    assert result.returncode == 0, f"spindle {' '.join(args)} failed:\n{result.stderr.decode()}"
    return result.stdout.decode()


def send_calls(endpoint: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "helpdesk"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    tracer = provider.get_tracer("prompt-cli-test")
    for index, (version, latency, tokens_in, tokens_out, score) in enumerate(CALLS):
        start = BASE_NS + index * 60_000_000_000
        span = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, start_time=start)
        span.set_attributes(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.prompt.name": "support-answer",
                "gen_ai.prompt.version": version,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": f"question {index}"}]}]
                ),
                "gen_ai.output.messages": json.dumps(
                    [{"role": "assistant", "parts": [{"type": "text", "content": f"answer {index}"}]}]
                ),
            }
        )
        span.add_event(
            "gen_ai.evaluation.result",
            {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": score},
            timestamp=start,
        )
        span.end(end_time=start + latency * 1_000_000)
    provider.shutdown()


def test_prompts_and_monitor_events_from_the_cli(spindle):
    send_calls(spindle.endpoint)
    db = str(spindle.db_path)

    listed = json.loads(run_cli("prompts", "--db", db, "--json"))["prompts"]
    assert [p["prompt_id"] for p in listed] == ["support-answer"]
    assert listed[0]["calls"] == 6 and listed[0]["implicit"] is False
    assert sorted(v["version"] for v in listed[0]["versions"]) == ["1", "2"]
    table = run_cli("prompts", "--db", db)
    assert "support-answer" in table and "named" in table

    analytics = json.loads(run_cli("prompts", "support-answer", "--db", db, "--json"))
    by_version = {v["version"]: v for v in analytics["versions"]}
    assert by_version["1"]["count"] == 3 and by_version["2"]["count"] == 3
    # Nearest-rank p50 of 400/600/800 is 600; of 200/250/300 is 250.
    assert by_version["1"]["latency_ms"]["p50"] == 600
    assert by_version["2"]["latency_ms"]["p50"] == 250
    assert by_version["1"]["tokens"]["input"] == 360
    assert abs(by_version["1"]["score_avg"] - 0.6) < 1e-9

    comparison = run_cli("prompts", "support-answer", "--db", db, "--compare", "1", "2").splitlines()
    assert comparison[0].split()[0:2] == ["1", f"({by_version['1']['version_hash'][:8]})"]
    p50 = next(line for line in comparison if line.startswith("latency p50"))
    assert "600ms" in p50 and "250ms" in p50 and "-58.3%" in p50

    series = json.loads(run_cli("prompts", "support-answer", "--db", db, "--bucket", "1h", "--json"))
    assert all(len(v["series"]) == 1 for v in series["versions"])  # six minutes of calls: one hour bucket

    flagged = json.loads(run_cli("monitor-events", "--db", db, "--flagged", "--json"))["events"]
    assert len(flagged) == 1
    assert flagged[0]["evalguard"]["appId"] == "helpdesk"
    assert flagged[0]["evalguard"]["scores"] == {"relevance": 0.1}
    assert flagged[0]["deeprails"]["model_input"]["prompt"] == "question 2"
    events_table = run_cli("monitor-events", "--db", db)
    assert events_table.count("gpt-4o-mini") == 6
