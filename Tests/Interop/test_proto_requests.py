"""Hand-built OTLP requests (official `opentelemetry-proto` classes) against a real Spindle.

Each scenario is written once, as plain Python data in the shape that
spindle_helpers.stored_spans reads back; the request is built from it with the
official protobuf classes, posted as application/x-protobuf or as OTLP JSON,
and the stored rows must equal the description field for field.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from spindle_helpers import assert_same_fields, post_traces

try:
    from google.rpc.status_pb2 import Status as RpcStatus
except ImportError:  # googleapis-common-protos is not installed
    RpcStatus = None

# --- the data --------------------------------------------------------------------

EVERY_ANY_VALUE_KIND = {
    "string": "hello",
    "string.empty": "",
    "string.escapes": 'tab\tnewline\n"quoted" back\\slash \x01 nul\x00 日本語 ✓ 🧵',
    "bool.true": True,
    "bool.false": False,
    "int.zero": 0,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "double": 3.141592653589793,
    "double.zero": 0.0,
    "double.tiny": 5e-324,
    "double.huge": 1.7976931348623157e308,
    "double.nan": math.nan,
    "double.inf": math.inf,
    "double.-inf": -math.inf,
    "bytes": b"\x00\x01\xfe\xff not utf-8 \xc3\x28",
    "bytes.empty": b"",
    "array": ["a", 1, 2.5, True, None, b"\x00\xff", ["nested", [1, [False]]], {"k": "v", "n": [2]}],
    "array.empty": [],
    "kvlist": {"inner": "x", "n": -2, "deep": {"list": [1.5, False], "bytes": b"\x10"}, "none": None},
    "kvlist.empty": {},
    "empty": None,
}

TRACE_ID = "5b8efff798038103d269b633813fc60c"
LINKED_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
ROOT_ID = "eee19b7ec3c1b174"
T0 = 1_700_000_000_000_000_000

RESOURCE = {
    "attributes": {"service.name": "proto-builder", "host.arch": "arm64", "all": EVERY_ANY_VALUE_KIND},
    "dropped_attributes_count": 2,
    "schema_url": "https://opentelemetry.io/schemas/1.26.0",
    "service_name": "proto-builder",
}

SCOPE = {
    "name": "spindle.interop.proto",
    "version": "9.9.9",
    "attributes": {"scope.ints": [1, 2], "scope.map": {"a": True}},
    "dropped_attributes_count": 1,
    "schema_url": "https://opentelemetry.io/schemas/1.24.0",
}

ROOT_SPAN = {
    "trace_id": TRACE_ID,
    "span_id": ROOT_ID,
    "parent_span_id": None,
    "trace_state": "vendor=abc,spindle=t61rcWkgMzE",
    "flags": 0x301,
    "name": "root: every field",
    "kind": Span.SPAN_KIND_SERVER,
    "start_time_unix_nano": T0,
    "end_time_unix_nano": T0 + 1_500_000_123,
    "status_code": Status.STATUS_CODE_ERROR,
    "status_message": "upstream said no: 503",
    "attributes": EVERY_ANY_VALUE_KIND,
    "dropped_attributes_count": 5,
    "events": [
        {
            "time_unix_nano": T0 + 10,
            "name": "every kind",
            "attributes": EVERY_ANY_VALUE_KIND,
            "dropped_attributes_count": 1,
        },
        {"time_unix_nano": T0 + 20, "name": "bare", "attributes": {}, "dropped_attributes_count": 0},
        {"time_unix_nano": T0 + 20, "name": "", "attributes": {"after": "bare"}, "dropped_attributes_count": 0},
    ],
    "dropped_events_count": 4,
    "links": [
        {
            "trace_id": LINKED_TRACE_ID,
            "span_id": "b7ad6b7169203331",
            "trace_state": "congo=ucfJifl5GOE",
            "attributes": {"link.kind": "follows", "link.n": 1, "link.any": EVERY_ANY_VALUE_KIND},
            "dropped_attributes_count": 2,
            "flags": 0x101,
        },
        {
            "trace_id": TRACE_ID,
            "span_id": "00000000000000ff",
            "trace_state": "",
            "attributes": {},
            "dropped_attributes_count": 0,
            "flags": 0,
        },
    ],
    "dropped_links_count": 3,
}


def child_span(n: int, kind: int, status_code: int, status_message: str = "") -> dict:
    return {
        "trace_id": TRACE_ID,
        "span_id": f"{0xA0 + n:016x}",
        "parent_span_id": ROOT_ID,
        "trace_state": "",
        "flags": 1,
        "name": f"child {n}",
        "kind": kind,
        "start_time_unix_nano": T0 + n * 1000,
        "end_time_unix_nano": T0 + n * 1000,  # zero duration
        "status_code": status_code,
        "status_message": status_message,
        "attributes": {"child.n": n},
        "dropped_attributes_count": 0,
        "events": [],
        "dropped_events_count": 0,
        "links": [],
        "dropped_links_count": 0,
    }


CHILD_SPANS = [
    child_span(0, Span.SPAN_KIND_UNSPECIFIED, Status.STATUS_CODE_UNSET),
    child_span(1, Span.SPAN_KIND_INTERNAL, Status.STATUS_CODE_OK),
    child_span(2, Span.SPAN_KIND_CLIENT, Status.STATUS_CODE_UNSET),
    child_span(3, Span.SPAN_KIND_PRODUCER, Status.STATUS_CODE_OK, "fine"),
    child_span(4, Span.SPAN_KIND_CONSUMER, Status.STATUS_CODE_ERROR),
]

# Only the required fields, under an empty resource and an empty scope.
MINIMAL_SPAN = {
    "trace_id": "ffffffffffffffffffffffffffffffff",
    "span_id": "0000000000000001",
    "parent_span_id": None,
    "trace_state": "",
    "flags": 0,
    "name": "minimal",
    "kind": 0,
    "start_time_unix_nano": 1,
    "end_time_unix_nano": 2,
    "status_code": 0,
    "status_message": "",
    "attributes": {},
    "dropped_attributes_count": 0,
    "events": [],
    "dropped_events_count": 0,
    "links": [],
    "dropped_links_count": 0,
}
EMPTY_RESOURCE = {"attributes": {}, "dropped_attributes_count": 0, "schema_url": "", "service_name": None}
EMPTY_SCOPE = {"name": "", "version": "", "attributes": {}, "dropped_attributes_count": 0, "schema_url": ""}

# (resource, scope, spans) groups: one ResourceSpans with one ScopeSpans each.
FULL_SCENARIO = [(RESOURCE, SCOPE, [ROOT_SPAN, *CHILD_SPANS]), (EMPTY_RESOURCE, EMPTY_SCOPE, [MINIMAL_SPAN])]


# --- building requests with the official classes ---------------------------------------


def any_value(value: object) -> AnyValue:
    if value is None:
        return AnyValue()
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    raise TypeError(f"no AnyValue for {value!r}")


def key_values(attributes: Mapping) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


def span_message(span: Mapping) -> Span:
    return Span(
        trace_id=bytes.fromhex(span["trace_id"]),
        span_id=bytes.fromhex(span["span_id"]),
        parent_span_id=bytes.fromhex(span["parent_span_id"] or ""),
        trace_state=span["trace_state"],
        flags=span["flags"],
        name=span["name"],
        kind=span["kind"],
        start_time_unix_nano=span["start_time_unix_nano"],
        end_time_unix_nano=span["end_time_unix_nano"],
        status=Status(code=span["status_code"], message=span["status_message"]),
        attributes=key_values(span["attributes"]),
        dropped_attributes_count=span["dropped_attributes_count"],
        events=[
            Span.Event(
                time_unix_nano=event["time_unix_nano"],
                name=event["name"],
                attributes=key_values(event["attributes"]),
                dropped_attributes_count=event["dropped_attributes_count"],
            )
            for event in span["events"]
        ],
        dropped_events_count=span["dropped_events_count"],
        links=[
            Span.Link(
                trace_id=bytes.fromhex(link["trace_id"]),
                span_id=bytes.fromhex(link["span_id"]),
                trace_state=link["trace_state"],
                attributes=key_values(link["attributes"]),
                dropped_attributes_count=link["dropped_attributes_count"],
                flags=link["flags"],
            )
            for link in span["links"]
        ],
        dropped_links_count=span["dropped_links_count"],
    )


def export_request(scenario: list[tuple[Mapping, Mapping, list[Mapping]]]) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=key_values(resource["attributes"]),
                    dropped_attributes_count=resource["dropped_attributes_count"],
                ),
                schema_url=resource["schema_url"],
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(
                            name=scope["name"],
                            version=scope["version"],
                            attributes=key_values(scope["attributes"]),
                            dropped_attributes_count=scope["dropped_attributes_count"],
                        ),
                        schema_url=scope["schema_url"],
                        spans=[span_message(span) for span in spans],
                    )
                ],
            )
            for resource, scope, spans in scenario
        ]
    )


def expected_rows(scenario: list[tuple[Mapping, Mapping, list[Mapping]]]) -> dict[tuple[str, str], dict]:
    return {
        (span["trace_id"], span["span_id"]): {"project": "default", **span, "resource": resource, "scope": scope}
        for resource, scope, spans in scenario
        for span in spans
    }


# --- the two encodings ------------------------------------------------------------------


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP JSON: protobuf JSON with integer enums and hex (not base64) trace/span ids."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for item in (span, *span.get("links", [])):
                    for field in ("traceId", "spanId", "parentSpanId"):
                        if field in item:
                            item[field] = _b64_to_hex(item[field])
    return json.dumps(document).encode()


def _parse_protobuf(body: bytes, message: Message) -> Message:
    message.ParseFromString(body)
    return message


@dataclass(frozen=True)
class Encoding:
    content_type: str
    encode: Callable[[ExportTraceServiceRequest], bytes]
    parse: Callable[[bytes, Message], Message]
    empty_response: bytes
    garbage: bytes


PROTOBUF = Encoding(
    "application/x-protobuf",
    ExportTraceServiceRequest.SerializeToString,
    _parse_protobuf,
    empty_response=b"",
    garbage=b"garbage: not a protobuf message\xff\xff",
)
JSON = Encoding(
    "application/json",
    otlp_json,
    json_format.Parse,
    empty_response=b"{}",
    garbage=b'{"resourceSpans": [{"scopeSpans": ',
)


@pytest.fixture(params=[PROTOBUF, JSON], ids=["protobuf", "json"])
def encoding(request) -> Encoding:
    return request.param


def send(spindle, encoding: Encoding, body: bytes, content_encoding: str | None = None):
    response = post_traces(spindle.endpoint, body, encoding.content_type, content_encoding)
    assert response.headers.get("Content-Type", "").startswith(encoding.content_type), response.headers
    return response


def export(spindle, encoding: Encoding, request: ExportTraceServiceRequest, content_encoding: str | None = None):
    return send(spindle, encoding, encoding.encode(request), content_encoding)


def assert_all_accepted(response, encoding: Encoding) -> None:
    assert response.status == 200, response.body
    assert response.body == encoding.empty_response
    parsed = encoding.parse(response.body, ExportTraceServiceResponse())
    assert not parsed.HasField("partial_success")


def assert_stored(spindle, expected: dict[tuple[str, str], dict]) -> None:
    stored = spindle.spans()
    assert stored.keys() == expected.keys()
    for key, row in expected.items():
        assert_same_fields(stored[key], row, f"span {row['name']!r}")


# --- tests -----------------------------------------------------------------------------


def test_every_field_is_stored_as_sent(spindle, encoding):
    response = export(spindle, encoding, export_request(FULL_SCENARIO))

    assert_all_accepted(response, encoding)
    assert_stored(spindle, expected_rows(FULL_SCENARIO))
    assert spindle.count("resources") == 2
    assert spindle.count("scopes") == 2
    # No events / no links: the column is NULL, not an empty array.
    stored_nulls = {
        row["name"]: (row["events"] is None, row["links"] is None)
        for row in spindle.query("SELECT name, events, links FROM spans")
    }
    assert stored_nulls == {
        span["name"]: (not span["events"], not span["links"]) for span in expected_rows(FULL_SCENARIO).values()
    }


@pytest.mark.parametrize("content_encoding", ["gzip", "deflate"])
def test_compressed_request_is_stored(spindle, encoding, content_encoding):
    scenario = [(RESOURCE, SCOPE, [ROOT_SPAN])]
    response = export(spindle, encoding, export_request(scenario), content_encoding)

    assert_all_accepted(response, encoding)
    assert_stored(spindle, expected_rows(scenario))


def test_span_with_short_trace_id_is_rejected_alone(spindle, encoding):
    valid = CHILD_SPANS[1]
    short_trace_id = {**CHILD_SPANS[2], "trace_id": "0102030405060708"}  # 8 bytes instead of 16
    request = export_request([(RESOURCE, SCOPE, [short_trace_id, valid])])

    response = export(spindle, encoding, request)

    assert response.status == 200, response.body
    partial = encoding.parse(response.body, ExportTraceServiceResponse()).partial_success
    assert partial.rejected_spans == 1
    assert "trace_id" in partial.error_message
    assert_stored(spindle, expected_rows([(RESOURCE, SCOPE, [valid])]))


def test_undecodable_request_is_400_with_rpc_status(spindle, encoding):
    response = send(spindle, encoding, encoding.garbage)

    assert response.status == 400
    assert response.body
    if RpcStatus is not None:
        status = encoding.parse(response.body, RpcStatus())
        assert status.code != 0  # anything but OK
        assert status.message
    assert spindle.count("spans") == 0


def test_same_span_twice_is_stored_once(spindle, encoding):
    scenario = [(RESOURCE, SCOPE, [ROOT_SPAN])]
    for _ in range(2):
        assert_all_accepted(export(spindle, encoding, export_request(scenario)), encoding)

    assert spindle.count("spans") == 1
    assert_stored(spindle, expected_rows(scenario))
