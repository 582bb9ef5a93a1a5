"""Trace trees out of Spindle and back in, with the stock SDK as the source:

- SDK spans -> `spindle export --format otlp-json` -> `spindle import` into a fresh database ->
  export again: the same bytes, and every stored field equal.
- The HTML export opened in headless Chromium: the waterfall renders one row per span. A
  screenshot is kept under Tests/output/ (not in git).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from conftest import SPINDLE_BIN
from sdk_scenario import emit_traces, get_tracer, make_provider
from spindle_helpers import stored_spans

OUTPUT = Path(__file__).resolve().parents[1] / "output"


def run_cli(*args: str) -> bytes:
    result = subprocess.run([SPINDLE_BIN, *args], capture_output=True, check=False)
    assert result.returncode == 0, f"spindle {' '.join(args)} failed:\n{result.stderr.decode()}"
    return result.stdout


def send_scenario(server) -> list[str]:
    """Exports the SDK scenario to the server; returns the trace ids, oldest first."""
    exporter = OTLPSpanExporter(endpoint=f"{server.endpoint}/v1/traces")
    provider, memory = make_provider(SimpleSpanProcessor(exporter))
    emit_traces(get_tracer(provider))
    provider.shutdown()
    listed = json.loads(run_cli("traces", "--db", str(server.db_path), "--json"))["traces"]
    assert len(listed) == 2
    return [trace["root_span_id"] for trace in reversed(listed)]


def test_export_import_export_is_byte_identical(spindle, tmp_path):
    trace_ids = send_scenario(spindle)
    first = spindle_export(spindle.db_path, trace_ids, tmp_path / "first.json")

    fresh = tmp_path / "fresh.db"
    # An import file as the Collector's file exporter writes it: one request per line.
    lines = tmp_path / "traces.jsonl"
    requests = [spindle_export(spindle.db_path, [t], tmp_path / f"{t}.json") for t in trace_ids]
    lines.write_text("\n".join(json.dumps(json.loads(request)) for request in requests) + "\n")
    out = run_cli("import", str(lines), "--db", str(fresh)).decode()
    assert "imported 6 spans" in out

    second = spindle_export(fresh, trace_ids, tmp_path / "second.json")
    assert second == first

    with sqlite3.connect(f"file:{spindle.db_path}?mode=ro", uri=True) as original, sqlite3.connect(fresh) as imported:
        original.row_factory = imported.row_factory = sqlite3.Row
        assert stored_spans(imported) == stored_spans(original)

    # Importing the same file again stores nothing new.
    assert "imported 0 spans (6 already stored" in run_cli("import", str(lines), "--db", str(fresh)).decode()


def spindle_export(db: Path, trace_ids: list[str], output: Path) -> bytes:
    run_cli("export", *trace_ids, "--db", str(db), "--format", "otlp-json", "--output", str(output))
    return output.read_bytes()


def test_html_export_renders_the_waterfall_in_chromium(spindle, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed (make test installs it: apt-get install -y chromium)")
    trace_ids = send_scenario(spindle)
    page = tmp_path / "trace.html"
    run_cli("export", trace_ids[1], "--db", str(spindle.db_path), "--format", "html", "--output", str(page))

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=2000"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, timeout=120, check=True).stdout.decode()
    rows = re.findall(r'<div class="row( orphan)?" data-span-id="([0-9a-f]{16})"', dom)
    spans = spindle.query("SELECT span_id FROM spans WHERE root_span_id = ?", trace_ids[1])
    assert sorted(span_id for _, span_id in rows) == sorted(row[0] for row in spans)
    assert len(re.findall(r'<div class="bar( error)?" title="', dom)) == len(spans)
    assert 'class="bar error"' in dom  # the failed llm-call is drawn as an error
    assert "spans · " in dom and trace_ids[1] in dom

    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / "html-export.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={screenshot}", "--window-size=1280,720", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )
    assert screenshot.stat().st_size > 10_000
