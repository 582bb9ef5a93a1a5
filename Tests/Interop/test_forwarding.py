"""Forwarding: Spindle A forwards what it stores to upstreams, durably.

- A -> B (another Spindle) over otlp-http and braintrust: the trees in B equal those in A.
- A -> a fault-injecting upstream (Retry-After, 500s, 413, resets, slow answers): every span arrives.
- Dead letters on a 400, retried from the CLI.
- kill -9 while forwarding, restart: nothing missing upstream.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from conftest import SPINDLE_BIN, start_spindle, stop_spindle
from fault_upstream import FaultUpstream
from sdk_scenario import emit_traces, get_tracer, make_provider
from spindle_helpers import post_traces, stored_spans


def send_scenario(server) -> list:
    provider, memory = make_provider(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.endpoint}/v1/traces")))
    emit_traces(get_tracer(provider))
    provider.shutdown()
    return list(memory.get_finished_spans())


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def outbox(server) -> str:
    return subprocess.run(
        [SPINDLE_BIN, "outbox", "--db", str(server.db_path), "--dead"], capture_output=True, check=True
    ).stdout.decode()


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def many_spans(count: int, trace_count: int = 10) -> dict:
    """An OTLP JSON request of `count` small spans."""
    traces = [os.urandom(16).hex() for _ in range(trace_count)]
    spans = [
        {
            "traceId": traces[index % trace_count], "spanId": os.urandom(8).hex(), "name": f"op-{index}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + index), "endTimeUnixNano": str(1_700_000_000_000_100_000 + index),
            "attributes": [{"key": "i", "value": {"intValue": str(index)}}],
        }
        for index in range(count)
    ]
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "fwd"}}]},
                               "scopeSpans": [{"spans": spans}]}]}


def post(server, request: dict) -> None:
    response = post_traces(server.endpoint, json.dumps(request).encode(), content_type="application/json")
    assert response.status == 200, response


@pytest.mark.parametrize("kind", ["otlp-http", "otlp-grpc"])
def test_otlp_a_to_b_trees_equal(tmp_path, kind):
    b = start_spindle(tmp_path, db_path=tmp_path / "b.db")
    target = b.endpoint if kind == "otlp-http" else f"http://{b.grpc_target}"
    a = start_spindle(tmp_path, "--forward", f"{kind}={target}", db_path=tmp_path / "a.db")
    try:
        sent = send_scenario(a)
        wait_for(lambda: b.count("spans") == len(sent), what=f"B to have every span over {kind}")
        assert stored_spans(b.connect()) == stored_spans(a.connect())  # field for field
        wait_for(lambda: outbox(a).splitlines()[1].split()[1] == "0", what="nothing pending")
        status = outbox(a).splitlines()[1].split()
        assert status[0].startswith(f"{kind}:127.0.0.1:") and status[3] == str(len(sent))
        # The same on /metrics (Prometheus text).
        metrics = urllib.request.urlopen(f"{a.endpoint}/metrics").read().decode()
        assert f'spindle_forwarded_spans_total{{exporter="{status[0]}"}} {len(sent)}' in metrics
        assert f'spindle_received_spans_total{{receiver="otlp-http"}} {len(sent)}' in metrics
        assert f"spindle_stored_spans_total {len(sent)}" in metrics
        assert f'spindle_outbox_pending_spans{{exporter="{status[0]}"}} 0' in metrics
    finally:
        stop_spindle(a)
        stop_spindle(b)


def test_braintrust_a_to_b_trees_equal(tmp_path):
    b = start_spindle(tmp_path, db_path=tmp_path / "b.db")
    a = start_spindle(tmp_path, "--forward", f"braintrust={b.endpoint},project-id=mirror", db_path=tmp_path / "a.db")
    try:
        sent = send_scenario(a)
        post(a, llm_spans(3))  # LLM calls: rows of type llm, with messages and token metrics
        wait_for(lambda: b.count("spans") == len(sent) + 3, what="B to have every row")
        calls = b.query(
            "SELECT json_extract(attributes, '$.\"braintrust.span_attributes\"'), json_extract(attributes, '$.\"braintrust.metrics\"'),"
            " json_extract(attributes, '$.\"braintrust.input\"') FROM spans WHERE name = 'chat gpt-4o-mini'")
        assert len(calls) == 3
        for span_attributes, metrics, messages in calls:
            assert json.loads(span_attributes)["type"] == "llm"
            assert json.loads(metrics)["prompt_tokens"] == 20 and json.loads(metrics)["completion_tokens"] == 7
            assert json.loads(messages)[0]["role"] == "user"
        trace_ids = {format(span.context.trace_id, "032x") for span in sent}
        for trace_id in trace_ids:
            mine = get_json(f"{a.endpoint}/api/v1/traces/{trace_id}")
            theirs = get_json(f"{b.endpoint}/api/v1/traces/{trace_id}?project=mirror")

            def shape(nodes):
                return [(n["span_id"], n["name"], n.get("missing_parent", False), shape(n["children"])) for n in nodes]

            assert shape(theirs["tree"]) == shape(mine["tree"])
            for span in theirs["spans"]:
                assert json.loads(span["attributes"]["braintrust.span_id"]) == span["span_id"]
    finally:
        stop_spindle(a)
        stop_spindle(b)


def test_faults_delay_but_lose_nothing(tmp_path):
    from email.utils import formatdate

    faults = [
        ("status", 503, {"Retry-After": formatdate(time.time() + 1, usegmt=True)}),  # an HTTP date
        ("status", 429, {"Retry-After": "1"}),  # seconds
        ("status", 500, {}),
        ("reset",),
        ("limit", 120),  # from here on, more than 120 spans in a request: 413
        ("slow", 2),
    ]
    with FaultUpstream(faults) as upstream:
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},max-items=500", db_path=tmp_path / "a.db")
        try:
            post(a, many_spans(500))  # one request: one batch of 500
            wait_for(lambda: len(set(upstream.accepted)) == 500, timeout=60, what="every span upstream")
            wait_for(lambda: outbox(a).splitlines()[1].split()[1] == "0", what="nothing pending")
            # The expected attempts, exactly: the batch of 500 meets 503, 429, 500 and a reset, each retried;
            # then 413 splits it into halves, and halves again while they exceed 120 (500 -> 250 -> 125
            # -> 62/63): one 413 for 500, two for 250, four for 125, and eight deliveries (one of them slow).
            sizes_by_status: dict[int, list[int]] = {}
            for count, status in upstream.attempts:
                sizes_by_status.setdefault(status, []).append(count)
            assert [status for _, status in upstream.attempts][:5] == [503, 429, 500, 0, 413]
            assert sizes_by_status[503] == sizes_by_status[429] == sizes_by_status[500] == sizes_by_status[0] == [500]
            assert sorted(sizes_by_status[413]) == [125, 125, 125, 125, 250, 250, 500]
            assert sorted(sizes_by_status[200]) == [62, 62, 62, 62, 63, 63, 63, 63]
            assert len(upstream.attempts) == 4 + 7 + 8
            # Delivered exactly once here (no attempt failed after the upstream took it), none missing.
            assert len(upstream.accepted) == 500
            stored = {bytes.fromhex(row[0]) for row in a.query("SELECT span_id FROM spans")}
            assert set(upstream.accepted) == stored
            retries = int(outbox(a).splitlines()[1].split()[5])
            assert retries >= 4
        finally:
            stop_spindle(a)


def protobuf_request(count: int) -> bytes:
    """The protobuf form of `many_spans(count)`, built with opentelemetry-proto."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = many_spans(count)
    for resource in request["resourceSpans"]:  # OTLP JSON ids are hex; the protobuf JSON mapping wants base64
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId"):
                    span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.ParseDict(request, ExportTraceServiceRequest()).SerializeToString()


def test_protobuf_requests_go_on_as_received(tmp_path):
    """Requests A stored whole go upstream byte for byte, joined; a 413 splits them by request, and a
    single request still too large is sent from the store, split by span."""
    with FaultUpstream([("limit", 150)]) as upstream:
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},max-delay=3s", db_path=tmp_path / "a.db")
        try:
            requests = [protobuf_request(count) for count in (100, 100, 100, 200)]
            for body in requests:  # within max-delay: one batch of 500
                response = post_traces(a.endpoint, body, content_type="application/x-protobuf")
                assert response.status == 200, response
            wait_for(lambda: len(set(upstream.accepted)) == 500, timeout=60, what="every span upstream")
            wait_for(lambda: outbox(a).splitlines()[1].split()[1] == "0", what="nothing pending")
            # 500 -> 413; [100+100] -> 413 -> 100, 100; [100+200] -> 413 -> 100, then the 200 alone -> 413,
            # sent from the store -> 413 again -> 100, 100.
            assert sorted(count for count, status in upstream.attempts if status == 413) == [200, 200, 200, 300, 500]
            assert sorted(count for count, status in upstream.attempts if status == 200) == [100] * 5
            assert upstream.bodies[:3] == requests[:3]  # the first three went on byte for byte
            assert len(upstream.accepted) == 500
            stored = {bytes.fromhex(row[0]) for row in a.query("SELECT span_id FROM spans")}
            assert set(upstream.accepted) == stored
            assert a.count("outbox_bodies") == 0  # dropped once delivered
        finally:
            stop_spindle(a)


def test_refused_batches_are_dead_letters_retryable_from_the_cli(tmp_path):
    with FaultUpstream([("status", 400, {})]) as upstream:
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},name=up", db_path=tmp_path / "a.db")
        try:
            post(a, many_spans(20))
            wait_for(lambda: "HTTP 400" in outbox(a), what="a dead letter")
            assert upstream.accepted == []
            post(a, many_spans(5))  # later data still flows
            wait_for(lambda: len(upstream.accepted) == 5, what="later spans")
            subprocess.run([SPINDLE_BIN, "outbox", "retry", "up", "--db", str(a.db_path)], check=True, capture_output=True)
            wait_for(lambda: len(set(upstream.accepted)) == 25, what="the dead letter sent again")
            wait_for(lambda: "HTTP 400" not in outbox(a), what="the dead letter gone")
        finally:
            stop_spindle(a)


def test_kill_9_while_forwarding_loses_nothing(tmp_path):
    # The upstream answers slowly at first, so A is killed with deliveries in flight.
    with FaultUpstream([("slow", 3)] * 3) as upstream:
        db = tmp_path / "a.db"
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},max-items=50", db_path=db)
        post(a, many_spans(400))
        time.sleep(1)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        stored = {bytes.fromhex(row[0]) for row in a.query("SELECT span_id FROM spans")}
        assert len(stored) == 400  # acknowledged, so committed
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},max-items=50", db_path=db)
        try:
            wait_for(lambda: set(upstream.accepted) >= stored, timeout=60, what="every span after the restart")
        finally:
            stop_spindle(a)


def llm_spans(count: int) -> dict:
    """OTLP JSON with `count` GenAI chat spans; every fifth names a prompt (a UUID, so EvalGuard takes it)."""
    spans = []
    for index in range(count):
        attributes = [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            {"key": "gen_ai.request.temperature", "value": {"doubleValue": 0.5}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "20"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "7"}},
            {"key": "gen_ai.input.messages", "value": {"stringValue": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": f"question {index}"}]}])}},
            {"key": "gen_ai.output.messages", "value": {"stringValue": json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": f"answer {index}"}]}])}},
        ]
        if index % 5 == 0:
            attributes += [
                {"key": "gen_ai.prompt.name", "value": {"stringValue": "5f0e8f1c-6a2b-4c3d-8e9f-0a1b2c3d4e5f"}},
                {"key": "gen_ai.prompt.version", "value": {"stringValue": "2"}},
            ]
        spans.append({
            "traceId": os.urandom(16).hex(), "spanId": os.urandom(8).hex(), "name": "chat gpt-4o-mini", "kind": 3,
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + index * 1_000_000),
            "endTimeUnixNano": str(1_700_000_000_400_000_000 + index * 1_000_000), "attributes": attributes,
        })
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "helpdesk"}}]},
                               "scopeSpans": [{"spans": spans}]}]}


def test_vendor_exporters_against_spindle_as_the_vendor(tmp_path):
    """A forwards LLM calls to B, which speaks the vendors' APIs: EvalGuard logs (batches of at most 100)
    and prompt events, DeepRails events, Basalt logs for calls that name a prompt."""
    b = start_spindle(tmp_path, db_path=tmp_path / "b.db")
    a = start_spindle(
        tmp_path,
        "--forward", f"evalguard={b.endpoint},project-id=7d2f4c1e-8a9b-4c3d-9e0f-1a2b3c4d5e6f",
        "--forward", f"deeprails={b.endpoint},monitor=mon-fwd",
        "--forward", f"basalt={b.endpoint}",
        db_path=tmp_path / "a.db",
    )
    try:
        post(a, llm_spans(250))
        post(a, many_spans(30))  # not LLM calls: not forwarded to these APIs

        def sources() -> dict:
            rows = b.query(
                "SELECT json_extract(attributes, '$.\"spindle.source\"'), count(*) FROM spans GROUP BY 1")
            return {source: count for source, count in rows}

        # 250 logs + 50 prompt events (EvalGuard), 250 events (DeepRails), 50 logs (Basalt).
        wait_for(lambda: sources() == {"evalguard": 300, "deeprails": 250, "basalt": 50}, timeout=60,
                 what=f"the vendor records in B (now {sources()})")
        events = get_json(f"{b.endpoint}/api/v1/monitor-events?limit=1000&model=gpt-4o-mini")["events"]
        # Basalt's log has no model field, so only EvalGuard logs (appId = A's service) and DeepRails events match.
        assert {e["evalguard"]["appId"] for e in events} == {"helpdesk", "deeprails"}
        assert len(events) == 500
        analytics = get_json(f"{b.endpoint}/api/v1/prompts/5f0e8f1c-6a2b-4c3d-8e9f-0a1b2c3d4e5f/analytics")
        (version,) = analytics["versions"]
        assert version["count"] == 50 + 50  # EvalGuard prompt events and Basalt logs of that prompt
        # Nothing refused: B checks every body as the vendors do (EvalGuard: 101 logs would be a 400).
        assert "HTTP" not in outbox(a)
        assert all(" 0 spans (0 batches)" in line for line in outbox(a).splitlines()[1:])
    finally:
        stop_spindle(a)
        stop_spindle(b)


def test_outbox_cap_blocks_or_drops_the_oldest(tmp_path):
    """A dead upstream never slows ingest until the outbox is full; then block answers 503 with
    Retry-After, and drop-oldest keeps accepting and counts what it skipped."""
    from conftest import _free_port

    dead = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    blocking = start_spindle(
        tmp_path, "--forward", f"otlp-http={dead}", "--outbox-max-bytes", "64KiB", db_path=tmp_path / "block.db")
    dropping = start_spindle(
        tmp_path, "--forward", f"otlp-http={dead}", "--outbox-max-bytes", "64KiB", "--outbox-full", "drop-oldest",
        db_path=tmp_path / "drop.db")
    try:
        def body() -> bytes:
            return json.dumps(many_spans(100)).encode()  # new ids every time

        statuses = [post_traces(blocking.endpoint, body(), content_type="application/json") for _ in range(10)]
        refused = [response for response in statuses if response.status == 503]
        assert statuses[0].status == 200 and refused, [response.status for response in statuses]
        assert int(refused[0].headers["Retry-After"]) >= 1

        for _ in range(10):
            assert post_traces(dropping.endpoint, body(), content_type="application/json").status == 200
        row = outbox(dropping).splitlines()[1].split()
        assert int(row[-1]) > 0  # DROPPED
        assert dropping.count("spans") == 1000  # dropping concerns forwarding only: everything is stored
    finally:
        stop_spindle(blocking)
        stop_spindle(dropping)


def test_config_file_drives_serve_and_check_names_line_and_key(tmp_path):
    b = start_spindle(tmp_path, db_path=tmp_path / "b.db")
    config = tmp_path / "spindle.yaml"
    config.write_text(
        "storage:\n"
        "  durability: full\n"
        "limits:\n"
        "  outbox_max_bytes: 256MiB\n"
        "exporters:\n"
        f"  - kind: otlp-http\n    url: {b.endpoint}\n    name: central\n    max_items: 50\n"
    )
    check = subprocess.run([SPINDLE_BIN, "config", "check", str(config)], capture_output=True, check=False)
    assert check.returncode == 0 and "exporter central" in check.stdout.decode()
    a = start_spindle(tmp_path, "--config", str(config), db_path=tmp_path / "a.db")
    try:
        post(a, many_spans(120))
        wait_for(lambda: b.count("spans") == 120, what="spans forwarded as the file says")
        assert outbox(a).splitlines()[1].split()[0] == "central"
    finally:
        stop_spindle(a)
        stop_spindle(b)

    bad = tmp_path / "bad.yaml"
    bad.write_text("receivers:\n  http: 127.0.0.1:1\nexporters:\n  - kind: otlp-http\n    url: http://x:1\n    max_itmes: 5\n")
    check = subprocess.run([SPINDLE_BIN, "config", "check", str(bad)], capture_output=True, check=False)
    assert check.returncode == 1
    assert f"{bad}:6: exporters[0].max_itmes: unknown key" in check.stderr.decode()
    serve = subprocess.run([SPINDLE_BIN, "serve", "--config", str(bad), "--db", str(tmp_path / "x.db")],
                           capture_output=True, timeout=30, check=False)
    assert serve.returncode != 0 and "max_itmes" in serve.stderr.decode()


def test_partial_success_is_logged_and_not_retried(tmp_path):
    with FaultUpstream([("partial", 3)]) as upstream:
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url}", db_path=tmp_path / "a.db")
        try:
            post(a, many_spans(10))
            wait_for(lambda: outbox(a).splitlines()[1].split()[1] == "0", what="nothing pending")
            assert len(upstream.attempts) == 1  # not retried
        finally:
            stop_spindle(a)
        log = "".join(path.read_text() for path in tmp_path.glob("spindle-*.log"))
        assert "partial success" in log and "rejected=3" in log


def test_upstream_down_for_a_while_then_back(tmp_path):
    """Connection refused until the upstream starts: everything arrives once it is up; dead letters can
    also be dropped from the CLI."""
    from conftest import _free_port

    port = _free_port()
    a = start_spindle(tmp_path, "--forward", f"otlp-http=http://127.0.0.1:{port},name=late", db_path=tmp_path / "a.db")
    try:
        post(a, many_spans(40))
        time.sleep(2)  # several refused attempts
        assert outbox(a).splitlines()[1].split()[1] == "40"  # still pending
        with FaultUpstream(port=port) as upstream:
            wait_for(lambda: len(set(upstream.accepted)) == 40, timeout=60, what="the spans once the upstream is up")
    finally:
        stop_spindle(a)


def test_dead_letters_can_be_dropped(tmp_path):
    with FaultUpstream([("status", 422, {})]) as upstream:
        a = start_spindle(tmp_path, "--forward", f"otlp-http={upstream.url},name=up", db_path=tmp_path / "a.db")
        try:
            post(a, many_spans(7))
            wait_for(lambda: "HTTP 422" in outbox(a), what="a dead letter")
            refused = subprocess.run([SPINDLE_BIN, "outbox", "drop", "up", "--db", str(a.db_path)], capture_output=True)
            assert refused.returncode != 0 and b"--dead" in refused.stderr  # says what it would drop
            dropped = subprocess.run(
                [SPINDLE_BIN, "outbox", "drop", "up", "--dead", "--db", str(a.db_path)], capture_output=True, check=True)
            assert b"dropped 1 dead letters" in dropped.stdout
            assert "HTTP 422" not in outbox(a)
        finally:
            stop_spindle(a)
