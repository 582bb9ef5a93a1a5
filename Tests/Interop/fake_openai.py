"""A tiny OpenAI-compatible server for the LLM instrumentation interop tests.

It answers `POST /v1/chat/completions` the way the OpenAI API does, closely enough for the
real `openai` client (and the instrumentations wrapping it) to parse the answer:

- non-streaming: one `chat.completion` object with `usage` (prompt/completion/total tokens and
  `prompt_tokens_details.cached_tokens`);
- streaming (`"stream": true`): `chat.completion.chunk` server-sent events, the reply split into
  several content deltas, a final chunk with `finish_reason`, then (only when the request asked
  for `stream_options.include_usage`) a chunk with empty `choices` and the usage, then `[DONE]`.

The reply text and token counts are fixed per server (set them per test); the response model is
the request model with a date suffix, as OpenAI reports it. Every request body is recorded.

Run it on its own to poke at it: `python fake_openai.py [port]`.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_REPLY = "Spindle keeps every span in one SQLite file."
MODEL_DATE_SUFFIX = "-2024-07-18"
CREATED = 1_721_260_800  # 2024-07-18, fixed so responses are deterministic
SYSTEM_FINGERPRINT = "fp_spindle_fake"


@dataclass
class Usage:
    """The token counts every response reports. `prompt_tokens` includes `cached_tokens`,
    as in OpenAI's usage object."""

    prompt_tokens: int = 27
    completion_tokens: int = 11
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


def response_model(request_model: str) -> str:
    """`gpt-4o-mini` -> `gpt-4o-mini-2024-07-18`, like OpenAI's pinned snapshot names."""
    return request_model if request_model.endswith(MODEL_DATE_SUFFIX) else request_model + MODEL_DATE_SUFFIX


def stream_pieces(text: str) -> list[str]:
    """The reply as the content deltas of a stream: word by word, keeping the spaces."""
    words = text.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


@dataclass
class FakeOpenAI:
    """The server, started with `start()` (or as a context manager) on a free local port."""

    reply: str = DEFAULT_REPLY
    usage: Usage = field(default_factory=Usage)
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict] = field(default_factory=list)  # request bodies, in arrival order

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_id = 0

    @property
    def base_url(self) -> str:
        """What to pass as the OpenAI client's `base_url`."""
        assert self._server is not None, "server not started"
        return f"http://{self.host}:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- answers ---------------------------------------------------------------------

    def _record(self, body: dict) -> str:
        with self._lock:
            self.requests.append(body)
            self._next_id += 1
            return f"chatcmpl-spindle{self._next_id:04d}"

    def completion(self, completion_id: str, model: str) -> dict:
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": CREATED,
            "model": response_model(model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": self.usage.to_json(),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

    def chunks(self, completion_id: str, model: str, include_usage: bool) -> list[dict]:
        """The stream's chunks. With include_usage every chunk carries `"usage": null` and
        one last chunk with no choices carries the usage, as OpenAI sends them."""

        def chunk(choices: list[dict]) -> dict:
            body = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": response_model(model),
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT,
                "choices": choices,
            }
            if include_usage:
                body["usage"] = None
            return body

        def delta(content: dict, finish_reason: str | None = None) -> list[dict]:
            return [{"index": 0, "delta": content, "logprobs": None, "finish_reason": finish_reason}]

        chunks = [chunk(delta({"role": "assistant", "content": "", "refusal": None}))]
        chunks += [chunk(delta({"content": piece})) for piece in stream_pieces(self.reply)]
        chunks.append(chunk(delta({}, "stop")))
        if include_usage:
            last = chunk([])
            last["usage"] = self.usage.to_json()
            chunks.append(last)
        return chunks


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass  # quiet: pytest shows failures, not access logs

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?", 1)[0] != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            try:
                body = json.loads(raw)
                model = body["model"]
            except (ValueError, KeyError, TypeError):
                self._send_json(400, {"error": {"message": "bad request body", "type": "invalid_request_error"}})
                return
            completion_id = fake._record(body)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._send_stream(fake.chunks(completion_id, model, include_usage))
            else:
                self._send_json(200, fake.completion(completion_id, model))

        def _send_json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, chunks: list[dict]) -> None:
            # No Content-Length: the stream ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


if __name__ == "__main__":
    with FakeOpenAI(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0) as server:
        print(f"fake OpenAI at {server.base_url}", flush=True)
        threading.Event().wait()
