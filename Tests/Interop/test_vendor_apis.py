"""The vendor logging APIs (EvalGuard, Basalt, DeepRails) against a live `spindle serve` with API keys.

Each example script in Examples/vendor-apis/ (our own curl calls, shaped like each vendor's documented
example) runs against a server whose key was created by `spindle keys create`; the answers must have the
documented status and shape, and the records must then be found in the trace, analytics and
monitor-event APIs. Negative cases check the exact status codes.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SPINDLE_BIN, _free_port, start_spindle, stop_spindle

EXAMPLES = REPO_ROOT / "Examples" / "vendor-apis"
UUID = "0b7c9f2e-4d1a-4e8b-9c3d-2a1f0e9d8c7b"


def create_key(db: Path, project: str) -> str:
    result = subprocess.run(
        [SPINDLE_BIN, "keys", "create", "--project", project, "--db", str(db)], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    key = result.stdout.decode().strip()
    assert key.startswith("sk-spindle-") and len(key) > 30
    return key


@pytest.fixture
def keyed(tmp_path):
    """A server started after two keys exist (projects shop and other), with a rate limit of 20/s."""
    db = tmp_path / "keyed.db"
    keys = {"shop": create_key(db, "shop"), "other": create_key(db, "other")}
    server = start_spindle(tmp_path, "--rate-limit", "20/s", "--max-body", "64KiB", db_path=db)
    try:
        yield server, keys
    finally:
        stop_spindle(server)


def call(server, method, path, body=None, key=None, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{server.endpoint}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None), response.headers
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, (json.loads(text) if text else None), error.headers


def run_example(server, key, name, *args) -> str:
    environment = dict(os.environ, SPINDLE_URL=server.endpoint, SPINDLE_API_KEY=key)
    result = subprocess.run([str(EXAMPLES / name), *args], capture_output=True, env=environment, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def split_status(output: str) -> tuple[dict | None, int]:
    """The scripts print the body, then `HTTP <status>`."""
    body, _, status = output.rpartition("HTTP ")
    return (json.loads(body) if body.strip() else None), int(status)


def test_examples_store_records_that_the_apis_find(keyed):
    server, keys = keyed
    key = keys["shop"]

    body, status = split_status(run_example(server, key, "evalguard-monitoring.sh"))
    assert status == 201
    assert body["count"] == 2 and body["flagged"] == 1
    assert [log["flagged"] for log in body["logs"]] == [False, True]
    trace_id = body["logs"][1]["id"]
    status, trace, _ = call(server, "GET", f"/api/v1/traces/{trace_id}", key=key)
    assert status == 200 and trace["summary"]["project"] == "shop"
    (span,) = trace["spans"]
    assert span["llm"]["model"] == "gpt-4o-mini"
    assert span["llm"]["flagged"] is True and span["llm"]["scores"] == {"helpfulness": 0.05}
    assert span["llm"]["output"][0]["text"] == "I like turtles."
    assert span["resource"]["attributes"]["service.name"] == "support-bot"

    body, status = split_status(run_example(server, key, "evalguard-prompt-analytics.sh"))
    assert status == 204 and body is None
    status, analytics, _ = call(server, "GET", "/api/v1/prompts/3b1e2d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e/analytics", key=key)
    assert status == 200
    (version,) = analytics["versions"]
    assert version["version_hash"] == "a41f9c2" and version["count"] == 1
    assert version["latency_ms"]["p50"] == pytest.approx(730, abs=1)
    assert version["cost_usd"]["total"] == pytest.approx(0.0009) and version["score_avg"] == pytest.approx(0.87)

    body, status = split_status(run_example(server, key, "basalt-monitor-log.sh"))
    assert status == 200
    assert set(body) == {"trace", "log", "warning"}
    assert "order-status" in body["warning"]  # no such prompt was known before
    status, trace, _ = call(server, "GET", f"/api/v1/traces/{body['trace']['id']}", key=key)
    (span,) = trace["spans"]
    assert span["span_id"] == body["log"]["id"]
    llm = span["llm"]
    assert llm["prompt_id"] == "order-status" and llm["prompt"]["version"] == "2.1.0"
    assert llm["prompt"]["variables"] == {"order_id": "1042"}
    assert llm["tokens"]["estimated"] is True and llm["tokens"]["input"] > 0  # computed from the text
    assert llm["cost"]["source"] == "price_table" and llm["cost_usd"] > 0  # from the tokens and metadata.model
    assert span["duration_ms"] == pytest.approx(1250)
    # Now the prompt and its version are known: the same log gets no warning.
    body, status = split_status(run_example(server, key, "basalt-monitor-log.sh"))
    assert status == 200 and body["warning"] is None

    output = run_example(server, key, "deeprails-monitor-event.sh", "mon-docs").splitlines()
    created = json.loads(output[0])
    read_back, status = split_status("\n".join(output[1:]))
    assert status == 200
    assert created["success"] is True and created["message"]
    data = created["data"]
    assert data["event_id"].startswith("evt-") and data["monitor_id"] == "mon-docs"
    assert data["evaluation_status"] == "pending" and data["evaluation_results"] == {}
    assert data["top_k"] == 40 and data["tokens"] == {"input_tokens": 412, "output_tokens": 37}
    assert read_back["data"] == data  # read back as it stands now
    status, events, _ = call(server, "GET", "/api/v1/monitor-events?model=gpt-4o&limit=100", key=key)
    (event,) = events["events"]
    assert event["deeprails"]["model_input"] == {
        "prompt": "Summarise the incident report.",
        "context": "You write for on-call engineers.",
    }
    assert event["deeprails"]["tokens"] == {"input_tokens": 412, "output_tokens": 37}

    # Nothing of project shop is visible to the other project's key.
    status, listed, _ = call(server, "GET", "/api/v1/traces", key=keys["other"])
    assert status == 200 and listed["traces"] == []
    status, _, _ = call(server, "GET", f"/api/v1/traces/{trace_id}", key=keys["other"])
    assert status == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/monitoring", {"projectId": "not-a-uuid", "logs": []}, "projectId"),
        ("/api/v1/monitoring", {"logs": []}, "projectId"),
        ("/api/v1/monitoring", {"projectId": UUID, "logs": [{"appId": "a"}] * 101}, "logs"),
        ("/api/v1/monitoring", {"projectId": UUID}, "logs"),
        ("/api/v1/monitoring", {"projectId": UUID, "logs": [{"latencyMs": "fast"}]}, "logs[0].latencyMs"),
        ("/api/v1/monitoring", {"projectId": UUID, "logs": [{"scores": {"x": "high"}}]}, "logs[0].scores.x"),
        ("/api/v1/monitoring", {"projectId": UUID, "logs": [{}, {"model": 4}]}, "logs[1].model"),
        ("/api/v1/prompts/analytics", {"version_hash": "v1"}, "prompt_id"),
        ("/api/v1/prompts/analytics", {"prompt_id": "x", "version_hash": "v1"}, "prompt_id"),
        ("/api/v1/prompts/analytics", {"prompt_id": UUID}, "version_hash"),
        ("/api/v1/prompts/analytics", {"prompt_id": UUID, "version_hash": "v1", "cost_usd": "1"}, "cost_usd"),
        ("/monitor/log", {"output": "Paris"}, "slug"),
        ("/monitor/log", {"slug": "qa"}, "output"),
        ("/monitor/log", {"slug": "qa", "output": "x", "inputTokens": "many"}, "inputTokens"),
        ("/monitor/log", {"slug": "qa", "output": "x", "startTime": "yesterday"}, "startTime"),
        ("/monitor/m/events", {"model_output": {"response": "x"}}, "model_input"),
        ("/monitor/m/events", {"model_input": {}, "model_output": {}, "temperature": "hot"}, "temperature"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(keyed, path, body, field):
    server, keys = keyed
    time.sleep(0.06)  # stay under the 20/s rate limit across the parametrized cases
    status, answer, _ = call(server, "POST", path, body, key=keys["shop"])
    assert status == 400, answer
    assert answer["error"]["field"] == field, answer
    assert field in answer["error"]["message"]


def test_nothing_is_half_written(keyed):
    server, keys = keyed
    logs = [{"appId": "a", "output": "ok"}] * 5 + [{"appId": "a", "latencyMs": "slow"}]
    status, _, _ = call(server, "POST", "/api/v1/monitoring", {"projectId": UUID, "logs": logs}, key=keys["shop"])
    assert status == 400
    assert server.count("spans") == 0


def test_auth_statuses(keyed):
    server, keys = keyed
    body = {"slug": "qa", "output": "x"}
    status, answer, headers = call(server, "POST", "/monitor/log", body)
    assert status == 401 and "API key" in answer["error"]["message"] and headers["WWW-Authenticate"] == "Bearer"
    status, _, _ = call(server, "POST", "/monitor/log", body, key="sk-spindle-not-a-real-key")
    assert status == 401
    status, answer, _ = call(server, "POST", "/monitor/log", body, key=keys["other"], headers={"x-spindle-project": "shop"})
    assert status == 403 and "other" in answer["error"]["message"]
    status, _, _ = call(server, "GET", "/api/v1/traces?project=shop", key=keys["other"])
    assert status == 403
    # OTLP too: 401 as a google.rpc.Status in the request's encoding.
    status, answer, _ = call(server, "POST", "/v1/traces", {"resourceSpans": []})
    assert status == 401 and answer["code"] == 16
    # /healthz needs no key.
    with urllib.request.urlopen(f"{server.endpoint}/healthz") as response:
        assert response.status == 200


def test_revoked_key_stops_working(keyed):
    server, keys = keyed
    listed = subprocess.run(
        [SPINDLE_BIN, "keys", "list", "--db", str(server.db_path)], capture_output=True, check=True
    ).stdout.decode()
    key_id = next(line.split()[0] for line in listed.splitlines() if " other " in line)
    assert call(server, "GET", "/api/v1/traces", key=keys["other"])[0] == 200
    subprocess.run([SPINDLE_BIN, "keys", "revoke", key_id, "--db", str(server.db_path)], check=True, capture_output=True)
    time.sleep(5.5)  # a key check is trusted for 5 s
    assert call(server, "GET", "/api/v1/traces", key=keys["other"])[0] == 401


def test_rate_limit_is_429_with_retry_after(keyed):
    server, keys = keyed
    statuses = [call(server, "GET", "/api/v1/traces", key=keys["shop"]) for _ in range(40)]
    limited = [headers for status, _, headers in statuses if status == 429]
    assert limited, [status for status, _, _ in statuses]
    assert int(limited[0]["Retry-After"]) >= 1


def test_huge_bodies_are_413(keyed):
    server, keys = keyed
    huge = {"slug": "qa", "output": "x" * 100_000}
    status, answer, _ = call(server, "POST", "/monitor/log", huge, key=keys["shop"])
    assert status == 413 and "max-body" in answer["error"]["message"]
    # The limit holds after decompression too.
    packed = gzip.compress(json.dumps(huge).encode())
    assert len(packed) < 64 * 1024
    status, _, _ = call(server, "POST", "/monitor/log", key=keys["shop"], raw=packed, headers={"Content-Encoding": "gzip"})
    assert status == 413


def test_non_loopback_without_keys_refuses_to_start(tmp_path):
    result = subprocess.run(
        [SPINDLE_BIN, "serve", "--db", str(tmp_path / "x.db"), "--http", f"0.0.0.0:{_free_port()}", "--grpc", "off"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "--insecure" in result.stderr.decode() and "spindle keys create" in result.stderr.decode()


def test_without_keys_the_request_names_its_project(spindle):
    # Header first, then the spindle.project resource attribute, then default.
    def otlp(service_project: str | None) -> dict:
        attributes = [{"key": "service.name", "value": {"stringValue": "svc"}}]
        if service_project:
            attributes.append({"key": "spindle.project", "value": {"stringValue": service_project}})
        trace_id = os.urandom(16).hex()
        return {
            "resourceSpans": [
                {
                    "resource": {"attributes": attributes},
                    "scopeSpans": [
                        {"spans": [{"traceId": trace_id, "spanId": os.urandom(8).hex(), "name": "op",
                                    "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}
                    ],
                }
            ]
        }

    assert call(spindle, "POST", "/v1/traces", otlp("from-resource"))[0] == 200
    assert call(spindle, "POST", "/v1/traces", otlp("from-resource"), headers={"x-spindle-project": "from-header"})[0] == 200
    assert call(spindle, "POST", "/v1/traces", otlp(None))[0] == 200
    projects = sorted(row[0] for row in spindle.query("SELECT project FROM spans"))
    assert projects == ["default", "from-header", "from-resource"]


def project_id(db: Path, name: str) -> str:
    listed = subprocess.run([SPINDLE_BIN, "keys", "list", "--db", str(db)], capture_output=True, check=True).stdout.decode()
    return next(line.split()[2] for line in listed.splitlines() if line.split()[1:2] == [name])


def test_braintrust_rows_build_a_tree(keyed):
    server, keys = keyed
    shop = project_id(server.db_path, "shop")
    body, status = split_status(run_example(server, keys["shop"], "braintrust-insert.sh", shop))
    assert status == 200
    # One id per row, in order; the third row had none, so one was generated.
    assert body["row_ids"][:2] == ["row-run-1", "row-llm-1"] and len(body["row_ids"]) == 3
    assert len(body["row_ids"][2]) == 36

    status, trace, _ = call(server, "GET", "/api/v1/traces/run-1", key=keys["shop"])
    assert status == 200
    assert trace["summary"]["span_count"] == 3 and trace["summary"]["root_name"] == "answer-question"
    (root,) = trace["tree"]
    assert root["span_id"] == "run-1"
    assert [child["span_id"] for child in root["children"]] == ["llm-1", "score-1"]
    spans = {span["span_id"]: span for span in trace["spans"]}
    assert spans["score-1"]["span_parents"] == ["run-1", "llm-1"]
    assert spans["score-1"]["other_parents"] == ["llm-1"]  # shown under its first parent
    assert spans["llm-1"]["root_span_id"] == "run-1"
    # Every field is kept, and the llm row is understood as an LLM call.
    assert json.loads(spans["run-1"]["attributes"]["braintrust.tags"]) == ["docs"]
    llm = spans["llm-1"]["llm"]
    assert llm["convention"] == "braintrust" and llm["model"] == "gpt-4o-mini"
    assert (llm["tokens"]["input"], llm["tokens"]["output"], llm["tokens"]["total"]) == (42, 5, 47)
    assert llm["system_instructions"] == "Answer from the changelog."
    assert llm["output"][0]["text"] == "Faster exports."
    assert spans["llm-1"]["duration_ms"] == pytest.approx(1700, abs=1)
    assert root["subtree"]["llm_calls"] == 1 and root["subtree"]["input_tokens"] == 42

    # Exported in Braintrust's own shape, the rows keep their ids.
    exported = subprocess.run(
        [SPINDLE_BIN, "export", "run-1", "--format", "braintrust", "--db", str(server.db_path)],
        capture_output=True,
        check=True,
    ).stdout
    rows = {row["span_id"]: row for row in json.loads(exported)["events"]}
    assert rows["llm-1"]["id"] == "row-llm-1" and rows["score-1"]["span_parents"] == ["run-1", "llm-1"]


def test_braintrust_project_scoping(keyed):
    server, keys = keyed
    other = project_id(server.db_path, "other")
    row = {"events": [{"id": "r1", "output": "x"}]}
    status, answer, _ = call(server, "POST", f"/v1/project_logs/{other}/insert", row, key=keys["shop"])
    assert status == 403, answer
    status, answer, _ = call(server, "POST", "/v1/project_logs/shop/insert", row, key=keys["shop"])  # by name
    assert status == 200 and answer == {"row_ids": ["r1"]}
    status, answer, _ = call(server, "POST", "/v1/project_logs/shop/insert", {"events": {}}, key=keys["shop"])
    assert status == 400 and answer["error"]["field"] == "events"
    bad = {"events": [{"id": "ok", "output": "fine"}, {"id": "bad", "span_parents": [3]}]}
    status, answer, _ = call(server, "POST", "/v1/project_logs/shop/insert", bad, key=keys["shop"])
    assert status == 400 and answer["error"]["field"] == "events[1].span_parents[0]"
    assert call(server, "GET", "/api/v1/traces/ok", key=keys["shop"])[0] == 404  # nothing half-written


def test_braintrust_merge_merge_paths_and_delete(keyed):
    server, keys = keyed
    key = keys["shop"]

    def insert(*events):
        status, answer, _ = call(server, "POST", "/v1/project_logs/shop/insert", {"events": list(events)}, key=key)
        assert status == 200, answer
        return answer["row_ids"]

    def row(span_id):
        status, trace, _ = call(server, "GET", f"/api/v1/traces/{span_id}", key=key)
        if status == 404:
            return None
        (span,) = [s for s in trace["spans"] if s["span_id"] == span_id]
        attributes = span["attributes"]
        return {k[len("braintrust."):]: json.loads(v) for k, v in attributes.items()
                if k.startswith("braintrust.") and k not in ("braintrust.id", "braintrust.project_id")}

    base = {
        "id": "r1", "span_id": "s1", "input": {"question": "q", "extra": {"keep": 1}},
        "metadata": {"model": "gpt-4o-mini", "config": {"x": 1, "y": 2}}, "output": "first",
    }
    assert insert(base) == ["r1"]
    # Deep merge: objects merge key by key, other values replace; untouched fields stay.
    assert insert({"id": "r1", "_is_merge": True, "metadata": {"config": {"y": 3}}, "output": "second"}) == ["r1"]
    merged = row("s1")
    assert merged["metadata"] == {"model": "gpt-4o-mini", "config": {"x": 1, "y": 3}}
    assert merged["output"] == "second" and merged["input"] == base["input"]
    # _merge_paths: below this path, replace instead of descending.
    insert({"id": "r1", "_is_merge": True, "_merge_paths": [["metadata", "config"]], "metadata": {"config": {"z": 9}}})
    assert row("s1")["metadata"] == {"model": "gpt-4o-mini", "config": {"z": 9}}
    # A merge into an id that does not exist creates the row.
    assert insert({"id": "r2", "span_id": "s2", "_is_merge": True, "output": "new"}) == ["r2"]
    assert row("s2")["output"] == "new"
    # Inserting an id again replaces its row.
    insert({"id": "r2", "span_id": "s2", "output": "replaced"})
    assert row("s2") == {"span_id": "s2", "root_span_id": "s2", "span_parents": [], "output": "replaced"}
    # Delete, and several operations in one request, in order.
    ids = insert(
        {"id": "r3", "span_id": "s3", "root_span_id": "s1", "span_parents": ["s1"], "output": "child"},
        {"id": "r3", "_is_merge": True, "scores": {"ok": 1}},
        {"id": "r2", "_object_delete": True},
    )
    assert ids == ["r3", "r3", "r2"]
    assert row("s2") is None
    status, trace, _ = call(server, "GET", "/api/v1/traces/s1", key=key)
    assert trace["summary"]["span_count"] == 2
    assert [child["span_id"] for child in trace["tree"][0]["children"]] == ["s3"]
    child = {s["span_id"]: s for s in trace["spans"]}["s3"]
    assert json.loads(child["attributes"]["braintrust.scores"]) == {"ok": 1}  # merged after its insert
    assert json.loads(child["attributes"]["braintrust.output"]) == "child"
    insert({"id": "r3", "_object_delete": True})
    status, trace, _ = call(server, "GET", "/api/v1/traces/s1", key=key)
    assert trace["summary"]["span_count"] == 1 and trace["tree"][0]["children"] == []


def test_registered_prompts_silence_basalt_warnings(keyed):
    server, keys = keyed
    key = keys["shop"]
    log = {"slug": "greeting", "output": "Hello!", "version": "3"}
    status, answer, _ = call(server, "POST", "/monitor/log", log, key=key)
    assert status == 200 and "greeting" in answer["warning"]
    status, answer, _ = call(server, "POST", "/api/v1/prompts", {"prompt_id": "welcome", "version": "3"}, key=key)
    assert status == 201 and answer == {"prompt_id": "welcome", "version": "3", "version_hash": "3"}
    status, answer, _ = call(server, "POST", "/api/v1/prompts", {"prompt_id": "welcome", "template": "Hi {{name}}"}, key=key)
    assert status == 201 and len(answer["version_hash"]) == 64
    status, answer, _ = call(server, "POST", "/api/v1/prompts", {"prompt_id": "welcome"}, key=key)
    assert status == 400 and answer["error"]["field"] == "version"
    status, answer, _ = call(server, "POST", "/monitor/log", dict(log, slug="welcome"), key=key)
    assert status == 200 and answer["warning"] is None
    status, answer, _ = call(server, "POST", "/monitor/log", dict(log, slug="welcome", version="4"), key=key)
    assert "4" in answer["warning"]
    status, listed, _ = call(server, "GET", "/api/v1/prompts", key=key)
    welcome = next(p for p in listed["prompts"] if p["prompt_id"] == "welcome")
    assert len(welcome["versions"]) == 3  # two registered, one seen in a log


def test_unknown_deeprails_event_is_404(keyed):
    server, keys = keyed
    status, answer, _ = call(server, "GET", f"/monitor/m/events/evt-{UUID}", key=keys["shop"])
    assert status == 404 and "error" in answer
    status, answer, _ = call(server, "GET", "/monitor/m/events/not-an-event", key=keys["shop"])
    assert status == 404


def test_otlp_exporters_with_and_without_a_key(keyed):
    """The official SDK exporters, over gRPC and HTTP: with the key the spans land in its project;
    without it they are refused (UNAUTHENTICATED / 401, which the exporters do not retry)."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GRPCExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

    from sdk_scenario import emit_traces, get_tracer, make_provider

    server, keys = keyed
    provider, memory = make_provider(SimpleSpanProcessor(HTTPExporter(endpoint=f"{server.endpoint}/v1/traces")))
    emit_traces(get_tracer(provider))
    spans = memory.get_finished_spans()
    provider.shutdown()
    assert server.count("spans") == 0  # refused without a key

    authorization = {"authorization": f"Bearer {keys['shop']}"}
    for exporter in (
        GRPCExporter(endpoint=server.grpc_target, insecure=True),
        HTTPExporter(endpoint=f"{server.endpoint}/v1/traces"),
    ):
        assert exporter.export(spans) is SpanExportResult.FAILURE
    for exporter in (
        GRPCExporter(endpoint=server.grpc_target, insecure=True, headers=authorization),
        HTTPExporter(endpoint=f"{server.endpoint}/v1/traces", headers=authorization),
    ):
        assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert [row[0] for row in server.query("SELECT DISTINCT project FROM spans")] == ["shop"]
    assert server.count("spans") == len(spans)  # the second export was a re-send: stored once
    grpc_other = GRPCExporter(
        endpoint=server.grpc_target, insecure=True,
        headers={**authorization, "x-spindle-project": "other"},
    )
    assert grpc_other.export(spans) is SpanExportResult.FAILURE  # PERMISSION_DENIED
