"""A small OTLP/HTTP upstream for the forwarding tests that misbehaves on purpose.

It decodes each `ExportTraceServiceRequest` (gzip accepted) with opentelemetry-proto, records the span ids
it accepted and every attempt, and answers according to a script of faults: a list of actions used one
per request, then 200 for the rest. Actions: ("status", code, headers), ("reset",) to drop the
connection without an answer, ("slow", seconds) to answer 200 late, ("limit", n) to answer 413 to any
request with more than n spans (kept for every later request too), ("partial", n) to accept with an
OTLP partial success rejecting n spans.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class FaultUpstream:
    def __init__(self, faults: list[tuple] | None = None, port: int = 0):
        self.faults = list(faults or [])
        self.limit: int | None = None
        self.accepted: list[bytes] = []  # span ids, in arrival order (duplicates kept)
        self.attempts: list[tuple[int, int]] = []  # (spans in the request, status answered; 0 = reset)
        self.bodies: list[bytes] = []  # the protobuf bodies answered 200 (decompressed), in arrival order
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                span_ids = [
                    span.span_id for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans
                ]
                with upstream.lock:
                    action = upstream.faults.pop(0) if upstream.faults else ("status", 200, {})
                    if action[0] == "limit":
                        upstream.limit = action[1]
                        action = ("status", 200, {})
                    if upstream.limit is not None and len(span_ids) > upstream.limit:
                        action = ("status", 413, {})
                if action[0] == "reset":
                    with upstream.lock:
                        upstream.attempts.append((len(span_ids), 0))
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                status = 200
                headers: dict = {}
                response = ExportTraceServiceResponse()
                if action[0] == "partial":
                    response.partial_success.rejected_spans = action[1]
                    response.partial_success.error_message = "some spans were not wanted"
                if action[0] == "slow":
                    time.sleep(action[1])
                elif action[0] == "status":
                    status, headers = action[1], action[2]
                with upstream.lock:
                    upstream.attempts.append((len(span_ids), status))
                    if status == 200:
                        upstream.accepted.extend(span_ids)
                        upstream.bodies.append(body)
                answer = response.SerializeToString() if status == 200 else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf" if status == 200 else "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultUpstream":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
