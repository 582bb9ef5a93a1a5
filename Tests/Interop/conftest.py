"""pytest fixtures for the interop tests: a real `spindle serve` per test."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from spindle_helpers import stored_spans

REPO_ROOT = Path(__file__).resolve().parents[2]
SPINDLE_BIN = os.environ.get("SPINDLE_BIN", str(REPO_ROOT / ".build" / "debug" / "spindle"))
STARTUP_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 10


@dataclass
class SpindleServer:
    endpoint: str  # e.g. http://127.0.0.1:43817, without a path
    grpc_target: str  # e.g. 127.0.0.1:43818, for OTLP/gRPC
    db_path: Path
    process: subprocess.Popen

    def connect(self) -> sqlite3.Connection:
        """A read-only connection to the server's SQLite file."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def spans(self) -> dict[tuple[str, str], dict]:
        """Every stored span, decoded (see spindle_helpers.stored_spans)."""
        with closing(self.connect()) as conn:
            return stored_spans(conn)

    def query(self, sql: str, *params) -> list[sqlite3.Row]:
        with closing(self.connect()) as conn:
            return conn.execute(sql, params).fetchall()

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts_connections(target: str) -> bool:
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_until_healthy(server: SpindleServer, stderr_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"spindle serve exited with {server.process.returncode} before becoming healthy:\n"
                + stderr_path.read_text(errors="replace")
            )
        if _healthy(server.endpoint) and _accepts_connections(server.grpc_target):
            return
        time.sleep(0.05)
    server.process.kill()
    pytest.fail(
        f"spindle serve not healthy after {STARTUP_TIMEOUT_S}s:\n" + stderr_path.read_text(errors="replace")
    )


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"spindle serve did not stop within {SHUTDOWN_TIMEOUT_S}s of SIGTERM; killed")


def start_spindle(tmp_path: Path, *extra_args: str, db_path: Path | None = None) -> SpindleServer:
    """Starts `spindle serve` on free ports (a fresh database unless `db_path` is given); waits until healthy."""
    if not os.access(SPINDLE_BIN, os.X_OK):
        pytest.fail(f"no spindle binary at {SPINDLE_BIN} (build it, or set SPINDLE_BIN)")
    db_path = db_path or tmp_path / "spindle.db"
    address = f"127.0.0.1:{_free_port()}"
    grpc_target = f"127.0.0.1:{_free_port()}"
    stderr_path = tmp_path / f"spindle-{address.rsplit(':', 1)[1]}.log"  # stdout and stderr
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [SPINDLE_BIN, "serve", "--db", str(db_path), "--http", address, "--grpc", grpc_target, *extra_args],
            stdout=stderr,
            stderr=subprocess.STDOUT,
        )
    server = SpindleServer(endpoint=f"http://{address}", grpc_target=grpc_target, db_path=db_path, process=process)
    _wait_until_healthy(server, stderr_path)
    return server


def stop_spindle(server: SpindleServer) -> None:
    if server.process.poll() is None:
        returncode = _stop(server.process)
        assert returncode == 0, f"spindle serve exited with {returncode} after SIGTERM"


@pytest.fixture
def spindle(tmp_path: Path) -> Iterator[SpindleServer]:
    """A running `spindle serve` on a free port with a fresh database."""
    server = start_spindle(tmp_path)
    try:
        yield server
    finally:
        stop_spindle(server)
