"""Real LLM instrumentation against a real Spindle: the `openai` client, instrumented by
opentelemetry-instrumentation-openai-v2 (OTel GenAI conventions) or openinference-instrumentation-openai
(OpenInference conventions), calls fake_openai.FakeOpenAI and exports OTLP/HTTP protobuf to Spindle.
Nothing here writes an LLM attribute by hand: Spindle must find the call in what the instrumentation
emitted, and the query API must show it (`llm` on the span, subtree and summary totals, monitor events).

What each instrumentation emits for these calls (span names, attribute keys, which usage fields) is
summarized in EMITS below and was captured from the real packages pinned in requirements.txt.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SPINDLE_BIN

import llm_scenario
from fake_openai import FakeOpenAI, Usage, response_model

INTEROP_DIR = Path(__file__).resolve().parent
PRICES_PATH = INTEROP_DIR.parents[1] / "Sources" / "SpindleLLM" / "Resources" / "prices.json"
SCENARIO_TIMEOUT_S = 60
TRACE_TIMEOUT_S = 10
HEX64 = re.compile(r"[0-9a-f]{64}")

REPLY = "Spindle keeps every span in one SQLite file."
REQUEST_MODEL = llm_scenario.MODEL
RESPONSE_MODEL = response_model(REQUEST_MODEL)  # gpt-4o-mini-2024-07-18

# Token counts the fake server reports, per mode. `prompt_tokens` includes the cached ones, as in
# OpenAI's usage object (and in gen_ai.usage.input_tokens / llm.token_count.prompt).
USAGE = {
    "plain": Usage(prompt_tokens=27, completion_tokens=11),
    "stream-usage": Usage(prompt_tokens=27, completion_tokens=11),
    "cached": Usage(prompt_tokens=1200, completion_tokens=11, cached_tokens=1024),
    "stream-no-usage": Usage(prompt_tokens=27, completion_tokens=11),  # never sent: no include_usage
}


@dataclass(frozen=True)
class Emits:
    """What one instrumentation puts on its span for these calls (seen with the pinned versions)."""

    convention: str
    span_name: str
    # Whether prompts and completions are on the span. openai-v2 needs the two environment variables
    # llm_scenario sets (OPENAI_V2_ENVIRONMENT); OpenInference records them by default.
    captures_content: bool
    # Whether the cached part of the prompt is reported. OpenInference copies
    # usage.prompt_tokens_details.cached_tokens to llm.token_count.prompt_details.cache_read (0 when
    # none were cached). openai-v2 2.4b0 does not for chat completions: its chat path records
    # gen_ai.usage.input_tokens/output_tokens only (gen_ai.usage.cache_read.input_tokens is set on its
    # Responses API path alone), so Spindle cannot know it and must say null, not 0.
    reports_cache_read: bool
    # Likewise usage.completion_tokens_details.reasoning_tokens: OpenInference reports it as
    # llm.token_count.completion_details.reasoning; openai-v2 does not.
    reports_reasoning: bool
    # openai-v2 keeps finish_reason in each gen_ai.output.messages entry; OpenInference has only the
    # span-level llm.finish_reason, which a reader may or may not attach to the message.
    finish_reason_on_message: bool


EMITS = {
    # Span "chat gpt-4o-mini" (CLIENT): gen_ai.operation.name=chat, gen_ai.provider.name=openai,
    # gen_ai.request.{model,temperature,top_p,max_tokens}, gen_ai.response.{model,id,finish_reasons},
    # gen_ai.usage.{input,output}_tokens, gen_ai.input.messages / gen_ai.output.messages (JSON, parts),
    # the system prompt as a "system" message in gen_ai.input.messages (no gen_ai.system_instructions).
    "openai-v2": Emits(
        convention="otel_genai",
        span_name=f"chat {REQUEST_MODEL}",
        captures_content=True,
        reports_cache_read=False,
        reports_reasoning=False,
        finish_reason_on_message=True,
    ),
    # Span "ChatCompletion" (INTERNAL): openinference.span.kind=LLM, llm.system=openai (no
    # llm.provider), llm.model_name = the RESPONSE model (the request model is only inside
    # llm.invocation_parameters and input.value), llm.invocation_parameters (JSON),
    # llm.input_messages.{i}.message.role|content, llm.output_messages.0.message.role|content,
    # llm.token_count.{prompt,completion,total}, ...prompt_details.cache_read, ...completion_details.reasoning.
    "openinference": Emits(
        convention="openinference",
        span_name="ChatCompletion",
        captures_content=True,
        reports_cache_read=True,
        reports_reasoning=True,
        finish_reason_on_message=False,
    ),
}

CASES = [
    pytest.param(instrumentation, mode, id=f"{instrumentation}-{mode}")
    for instrumentation in llm_scenario.INSTRUMENTATIONS
    for mode in ("plain", "cached", "stream-usage", "stream-no-usage")
]


# --- running the scenario and reading the API -------------------------------------------


def run_scenario(instrumentation: str, endpoint: str, base_url: str, mode: str) -> str:
    """Runs llm_scenario.py in a fresh interpreter; returns the trace id it printed."""
    # The scenario's own settings only: no OTEL_* from the outer environment, and no proxy for the
    # local servers.
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    result = subprocess.run(
        [sys.executable, str(INTEROP_DIR / "llm_scenario.py"), instrumentation, endpoint, base_url, mode],
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_S,
        env=env,
        cwd=INTEROP_DIR,
    )
    assert result.returncode == 0, f"llm_scenario.py failed ({result.returncode}):\n{result.stderr}"
    trace_id = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id), f"unexpected scenario output: {result.stdout!r}"
    return trace_id


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {}


def fetch_trace(endpoint: str, trace_id: str, span_count: int) -> dict:
    """GET /api/v1/traces/{trace_id} once all `span_count` spans are there (the scenario flushed
    before exiting, so this is normally the first try)."""
    deadline = time.monotonic() + TRACE_TIMEOUT_S
    while True:
        status, body = get_json(f"{endpoint}/api/v1/traces/{trace_id}")
        if status == 200 and len(body.get("spans", [])) >= span_count:
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"trace {trace_id}: status {status}, {len(body.get('spans', []))} spans after {TRACE_TIMEOUT_S}s")
        time.sleep(0.1)


# --- what the numbers must be ---------------------------------------------------------


def gpt_4o_mini_prices() -> dict:
    """The price table entry Spindle must use for gpt-4o-mini (USD per 1,000,000 tokens)."""
    if not PRICES_PATH.exists():
        pytest.fail(f"no price table at {PRICES_PATH}")
    table = json.loads(PRICES_PATH.read_text())
    assert table.get("unit") == "USD per 1,000,000 tokens", table.get("unit")
    # The table's rule: entries are tried in file order, each pattern anchored at both ends.
    entries = [entry for entry in table["models"] if re.fullmatch(entry["match"], "gpt-4o-mini")]
    assert entries, "no price entry matches gpt-4o-mini"
    return entries[0]


def expected_cost(tokens: dict) -> float:
    """Cached input tokens are part of the input count and priced at the cached rate instead."""
    price = gpt_4o_mini_prices()
    cache_read = tokens["cache_read"] or 0
    cached_price = price["cached_input"] if price.get("cached_input") is not None else price["input"]
    return (
        (tokens["input"] - cache_read) * price["input"] / 1e6
        + cache_read * cached_price / 1e6
        + tokens["output"] * price["output"] / 1e6
    )


def approx_cost(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=0)


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(("instrumentation", "mode"), CASES)
def test_llm_call_is_extracted(spindle, instrumentation, mode):
    emits = EMITS[instrumentation]
    usage = USAGE[mode]
    with FakeOpenAI(reply=REPLY, usage=usage) as fake:
        trace_id = run_scenario(instrumentation, spindle.endpoint, fake.base_url, mode)
    assert_scenario_request(fake, mode)

    trace = fetch_trace(spindle.endpoint, trace_id, span_count=2)
    spans = trace["spans"]
    assert len(spans) == 2, [span["name"] for span in spans]
    llm_spans = [span for span in spans if "llm" in span]
    assert len(llm_spans) == 1, f"spans with an llm key: {[span['name'] for span in llm_spans]}"
    span = llm_spans[0]
    (parent,) = [s for s in spans if s["name"] == llm_scenario.PARENT_SPAN]
    assert span["name"] == emits.span_name
    assert span["span_parents"] == [parent["span_id"]]
    llm = span["llm"]

    # What the call was.
    assert llm["convention"] == emits.convention
    assert llm["operation"] == "chat"  # OpenInference says only span kind LLM; its messages make it chat
    assert llm["provider"] == "openai"  # openinference: from llm.system
    assert llm["model"] == RESPONSE_MODEL
    # The model asked for. For OpenInference it is only in llm.invocation_parameters ("model"), as
    # llm.model_name holds the response model.
    assert llm["request_model"] == REQUEST_MODEL

    # Messages (both instrumentations capture content here; see Emits.captures_content).
    if emits.captures_content:
        assert [(m["role"], m["text"]) for m in llm["input"]] == [
            ("system", llm_scenario.SYSTEM_PROMPT),
            ("user", llm_scenario.USER_PROMPT),
        ]
        assert all(not m.get("tool_calls") for m in llm["input"])
        assert [(m["role"], m["text"]) for m in llm["output"]] == [("assistant", REPLY)]
        if emits.finish_reason_on_message:
            assert llm["output"][0]["finish_reason"] == "stop"
        else:
            assert llm["output"][0].get("finish_reason") in (None, "stop")
        # Neither emits a separate system-instructions attribute; the system message is the
        # instructions.
        assert llm["system_instructions"] == llm_scenario.SYSTEM_PROMPT

    # Tokens.
    tokens = llm["tokens"]
    if mode == "stream-no-usage":
        # No usage came back, so neither instrumentation recorded any: Spindle estimates from the text.
        assert tokens["estimated"] is True
        assert isinstance(tokens["input"], int) and tokens["input"] > 0
        assert isinstance(tokens["output"], int) and tokens["output"] > 0
        assert tokens["cache_read"] is None
        assert tokens["reasoning"] is None
    else:
        assert tokens["estimated"] is False
        assert tokens["input"] == usage.prompt_tokens
        assert tokens["output"] == usage.completion_tokens
        assert tokens["cache_read"] == (usage.cached_tokens if emits.reports_cache_read else None)
        assert tokens["reasoning"] == (usage.reasoning_tokens if emits.reports_reasoning else None)
    assert tokens["cache_write"] is None  # OpenAI reports no cache writes; neither emits the key
    assert tokens["total"] == tokens["input"] + tokens["output"]

    # Request parameters. `parameters` may hold more keys (OpenInference's invocation parameters also
    # carry model, stream, stream_options).
    assert llm["temperature"] == pytest.approx(0.2) and isinstance(llm["temperature"], float)
    assert llm["top_p"] == pytest.approx(0.9) and isinstance(llm["top_p"], float)
    assert llm["top_k"] is None
    parameters = llm["parameters"]
    assert parameters["temperature"] == pytest.approx(0.2)
    assert parameters["top_p"] == pytest.approx(0.9)
    assert parameters["max_tokens"] == 64 and isinstance(parameters["max_tokens"], int)
    assert "top_k" not in parameters

    # No prompt id was sent: the prompt is identified implicitly (by its instructions).
    prompt = llm["prompt"]
    assert prompt is not None and prompt["implicit"] is True
    assert HEX64.fullmatch(prompt["version_hash"]), prompt["version_hash"]
    assert llm["version_hash"] == prompt["version_hash"]

    # Cost from the price table (Spindle's own tokens, so the estimate case checks the arithmetic).
    cost = expected_cost(tokens)
    assert llm["cost"]["source"] == "price_table", llm["cost"]
    assert llm["cost"]["usd"] == approx_cost(cost)
    assert llm["cost_usd"] == approx_cost(cost)

    # The rest of the record.
    assert llm["latency_ms"] == pytest.approx(span["duration_ms"])  # the span is the call
    assert llm["latency_ms"] > 0
    assert llm["scores"] == {}
    assert llm["flagged"] is False
    assert llm["aggregate"] is False

    # Totals: the LLM span alone, the parent's subtree, the trace.
    expected_totals = {
        "llm_calls": 1,
        "input_tokens": tokens["input"],
        "output_tokens": tokens["output"],
        "total_tokens": tokens["total"],
    }
    for what, totals in (
        ("llm span subtree", span["subtree"]),
        (f"{llm_scenario.PARENT_SPAN} subtree", parent["subtree"]),
        ("trace summary", trace["summary"]),
    ):
        assert {key: totals[key] for key in expected_totals} == expected_totals, what
        assert totals["cost_usd"] == approx_cost(cost), what
    assert "llm" not in parent

    assert_monitor_event(spindle.endpoint, trace_id, span, instrumentation, emits, tokens, cost)
    assert_braintrust_export(spindle, trace_id, span, emits, tokens)


def assert_braintrust_export(spindle, trace_id, span, emits, tokens) -> None:
    """`spindle export --format braintrust` turns the call into an llm row with messages and token metrics."""
    result = subprocess.run(
        [SPINDLE_BIN, "export", trace_id, "--format", "braintrust", "--db", str(spindle.db_path)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    events = json.loads(result.stdout)["events"]
    (row,) = [event for event in events if event["span_id"] == span["span_id"]]
    assert row["span_attributes"]["type"] == "llm"
    assert row["metrics"]["prompt_tokens"] == tokens["input"]
    assert row["metrics"]["completion_tokens"] == tokens["output"]
    assert row["metrics"]["tokens"] == tokens["total"]
    assert row["metadata"]["model"] == RESPONSE_MODEL
    if emits.captures_content:
        assert [(m["role"], m["content"]) for m in row["input"]] == [
            ("system", llm_scenario.SYSTEM_PROMPT),
            ("user", llm_scenario.USER_PROMPT),
        ]
        assert [(m["role"], m["content"]) for m in row["output"]] == [("assistant", REPLY)]


def assert_scenario_request(fake: FakeOpenAI, mode: str) -> None:
    """Guards the scenario: one call with the messages and parameters the assertions expect."""
    assert len(fake.requests) == 1, fake.requests
    (request,) = fake.requests
    assert request["model"] == REQUEST_MODEL
    assert request["messages"] == llm_scenario.messages()
    assert {key: request[key] for key in llm_scenario.PARAMETERS} == llm_scenario.PARAMETERS
    assert bool(request.get("stream")) == mode.startswith("stream")
    assert bool((request.get("stream_options") or {}).get("include_usage")) == (mode == "stream-usage")


def assert_monitor_event(endpoint, trace_id, span, instrumentation, emits, tokens, cost) -> None:
    query = urllib.parse.urlencode({"model": REQUEST_MODEL})
    status, body = get_json(f"{endpoint}/api/v1/monitor-events?{query}")
    assert status == 200
    events = body["events"]
    assert len(events) == 1, events
    (event,) = events
    assert event["root_span_id"] == trace_id
    assert event["span_id"] == span["span_id"]
    assert event["flagged"] is False

    deeprails = event["deeprails"]
    if emits.captures_content:
        assert deeprails["model_output"]["response"] == REPLY
    assert deeprails["tokens"] == {"input_tokens": tokens["input"], "output_tokens": tokens["output"]}
    assert deeprails["temperature"] == pytest.approx(0.2)
    assert deeprails["top_p"] == pytest.approx(0.9)
    assert deeprails["top_k"] is None

    evalguard = event["evalguard"]
    assert evalguard["appId"] == llm_scenario.service_name(instrumentation)
    assert evalguard["costUsd"] == approx_cost(cost)
    assert evalguard["flagged"] is False
