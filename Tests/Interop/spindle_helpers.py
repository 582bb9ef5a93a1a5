"""Shared helpers for the interop tests: reading Spindle's SQLite rows back into
plain Python values, a type-strict comparison, and a small OTLP/HTTP poster.

Spindle stores attributes as a compact typed JSON object: plain JSON values where
JSON can say them (an int has no fraction, a float always has one), tagged OTLP
AnyValue objects where it cannot (bytes, NaN/Infinity, nested key-value lists,
empty values), and the OTLP KeyValue array when a key repeats. The decoders here
are strict about that spelling (times are decimal strings, ids are lowercase
hex), so a change of storage format fails loudly.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import sqlite3
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_HEX_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_HEX_SPAN_ID = re.compile(r"[0-9a-f]{16}")


# --- stored OTLP JSON -> Python values -------------------------------------------


def decode_value(value: object) -> object:
    """One stored attribute value: a plain JSON value, or a tagged OTLP AnyValue object."""
    if isinstance(value, Mapping):
        return decode_any_value(value)
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    assert isinstance(value, (str, bool, int, float)), f"unexpected stored value {value!r}"
    return value


def decode_any_value(value: Mapping) -> object:
    """One OTLP JSON AnyValue as a Python value.

    str, bool, int, float, bytes, list (arrayValue), dict (kvlistValue), and
    None for the empty AnyValue `{}`.
    """
    if not value:
        return None
    assert len(value) == 1, f"AnyValue with more than one kind: {value!r}"
    ((kind, inner),) = value.items()
    if kind == "stringValue":
        assert isinstance(inner, str), value
        return inner
    if kind == "boolValue":
        assert isinstance(inner, bool), value
        return inner
    if kind == "intValue":
        assert isinstance(inner, str), f"intValue must be a decimal string: {value!r}"
        return int(inner)
    if kind == "doubleValue":
        if isinstance(inner, str):
            assert inner in _SPECIAL_DOUBLES, f"unexpected doubleValue string: {value!r}"
            return _SPECIAL_DOUBLES[inner]
        assert isinstance(inner, (int, float)) and not isinstance(inner, bool), value
        return float(inner)
    if kind == "bytesValue":
        assert isinstance(inner, str), value
        return base64.b64decode(inner, validate=True)
    if kind == "arrayValue":
        return [decode_value(v) for v in inner.get("values", [])]
    if kind == "kvlistValue":
        return decode_attributes(inner.get("values", []))
    raise AssertionError(f"unknown AnyValue kind {kind!r} in {value!r}")


def decode_attributes(key_values: str | Mapping | Sequence | None) -> dict:
    """Stored attributes (or their JSON text) as a dict key -> Python value: the compact
    object, or the OTLP JSON KeyValue array."""
    if isinstance(key_values, str):
        key_values = json.loads(key_values)
    if isinstance(key_values, Mapping):
        return {key: decode_value(value) for key, value in key_values.items()}
    result = {}
    for kv in key_values or []:
        assert kv["key"] not in result, f"duplicate key {kv['key']!r}"
        result[kv["key"]] = decode_any_value(kv.get("value", {}))
    return result


def _decimal(text: object) -> int:
    assert isinstance(text, str) and text.isdigit(), f"expected a decimal string, got {text!r}"
    return int(text)


def decode_events(events_json: str | None) -> list[dict]:
    events = json.loads(events_json) if events_json is not None else []
    return [
        {
            "time_unix_nano": _decimal(e["timeUnixNano"]),
            "name": e.get("name", ""),
            "attributes": decode_attributes(e.get("attributes")),
            "dropped_attributes_count": e.get("droppedAttributesCount", 0),
        }
        for e in events
    ]


def decode_links(links_json: str | None) -> list[dict]:
    links = json.loads(links_json) if links_json is not None else []
    return [
        {
            "trace_id": link["traceId"],
            "span_id": link["spanId"],
            "trace_state": link.get("traceState", ""),
            "attributes": decode_attributes(link.get("attributes")),
            "dropped_attributes_count": link.get("droppedAttributesCount", 0),
            "flags": link.get("flags", 0),
        }
        for link in links
    ]


# --- reading spans back ---------------------------------------------------------

_SPAN_QUERY = """
    SELECT s.project, s.root_span_id, s.span_id, s.span_parents, s.trace_state, s.flags,
           s.name, s.kind, s.start_time_unix_nano, s.end_time_unix_nano,
           s.status_code, s.status_message,
           s.attributes, s.dropped_attributes_count,
           s.events, s.dropped_events_count, s.links, s.dropped_links_count,
           r.attributes AS resource_attributes,
           r.dropped_attributes_count AS resource_dropped_attributes_count,
           r.schema_url AS resource_schema_url, r.service_name,
           c.name AS scope_name, c.version AS scope_version,
           c.attributes AS scope_attributes,
           c.dropped_attributes_count AS scope_dropped_attributes_count,
           c.schema_url AS scope_schema_url
    FROM spans s
    JOIN resources r ON r.id = s.resource_id
    JOIN scopes c ON c.id = s.scope_id
"""


def _parent_from_row(span_parents: str | None) -> str | None:
    if span_parents is None:
        return None
    parents = json.loads(span_parents)
    assert isinstance(parents, list) and len(parents) == 1, f"span_parents: {span_parents!r}"
    return parents[0]


def _span_from_row(row: sqlite3.Row) -> dict:
    assert _HEX_TRACE_ID.fullmatch(row["root_span_id"]), row["root_span_id"]
    assert _HEX_SPAN_ID.fullmatch(row["span_id"]), row["span_id"]
    return {
        "project": row["project"],
        "trace_id": row["root_span_id"],
        "span_id": row["span_id"],
        "parent_span_id": _parent_from_row(row["span_parents"]),
        "trace_state": row["trace_state"],
        "flags": row["flags"],
        "name": row["name"],
        "kind": row["kind"],
        "start_time_unix_nano": row["start_time_unix_nano"],
        "end_time_unix_nano": row["end_time_unix_nano"],
        "status_code": row["status_code"],
        "status_message": row["status_message"],
        "attributes": decode_attributes(row["attributes"]),
        "dropped_attributes_count": row["dropped_attributes_count"],
        "events": decode_events(row["events"]),
        "dropped_events_count": row["dropped_events_count"],
        "links": decode_links(row["links"]),
        "dropped_links_count": row["dropped_links_count"],
        "resource": {
            "attributes": decode_attributes(row["resource_attributes"]),
            "dropped_attributes_count": row["resource_dropped_attributes_count"],
            "schema_url": row["resource_schema_url"],
            "service_name": row["service_name"],
        },
        "scope": {
            "name": row["scope_name"],
            "version": row["scope_version"],
            "attributes": decode_attributes(row["scope_attributes"]),
            "dropped_attributes_count": row["scope_dropped_attributes_count"],
            "schema_url": row["scope_schema_url"],
        },
    }


def stored_spans(conn: sqlite3.Connection) -> dict[tuple[str, str], dict]:
    """Every stored span, decoded, keyed by (trace id hex, span id hex)."""
    conn.row_factory = sqlite3.Row
    spans = {}
    for row in conn.execute(_SPAN_QUERY):
        span = _span_from_row(row)
        key = (span["trace_id"], span["span_id"])
        assert key not in spans, f"span stored twice: {key}"
        spans[key] = span
    return spans


# --- type-strict comparison -------------------------------------------------------


def same(actual: object, expected: object) -> bool:
    """Equality that also requires equal types: True != 1 != 1.0, NaN == NaN.

    Lists and tuples are both sequences (the SDK keeps sequences as tuples).
    """
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected))
        )
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(actual)
    return actual == expected


def assert_same_fields(stored: Mapping, sent: Mapping, what: str) -> None:
    """Compare `stored` with `sent` key by key; list every differing field."""
    differences = [
        f"  {field}: sent {sent[field]!r}, stored {stored.get(field, '<missing>')!r}"
        for field in sent
        if not same(stored.get(field), sent[field])
    ]
    assert not differences, f"{what} differs from what was sent:\n" + "\n".join(differences)


# --- OTLP/HTTP requests -------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def post_traces(
    endpoint: str,
    body: bytes,
    content_type: str,
    content_encoding: str | None = None,
) -> Response:
    """POST `body` to {endpoint}/v1/traces, optionally compressed (gzip or deflate)."""
    headers = {"Content-Type": content_type}
    if content_encoding == "gzip":
        body = gzip.compress(body)
    elif content_encoding == "deflate":
        body = zlib.compress(body)
    elif content_encoding is not None:
        raise ValueError(f"unsupported encoding {content_encoding}")
    if content_encoding:
        headers["Content-Encoding"] = content_encoding
    request = urllib.request.Request(f"{endpoint}/v1/traces", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())
