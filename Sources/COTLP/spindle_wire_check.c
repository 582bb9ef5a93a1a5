#include "spindle_wire.h"

// The messages of an OTLP trace request that can contain AnyValues, and which field leads where.
typedef enum {
  M_NONE = -1,
  M_REQUEST = 0,
  M_RESOURCE_SPANS,
  M_RESOURCE,
  M_SCOPE_SPANS,
  M_SCOPE,
  M_SPAN,
  M_EVENT,
  M_LINK,
  M_KEY_VALUE,
  M_ANY_VALUE,
  M_ARRAY_VALUE,
  M_KVLIST_VALUE,
} message_kind;

static message_kind child_kind(message_kind parent, uint32_t field) {
  switch (parent) {
  case M_REQUEST: return field == 1 ? M_RESOURCE_SPANS : M_NONE;
  case M_RESOURCE_SPANS: return field == 1 ? M_RESOURCE : field == 2 ? M_SCOPE_SPANS : M_NONE;
  case M_RESOURCE: return field == 1 ? M_KEY_VALUE : M_NONE;
  case M_SCOPE_SPANS: return field == 1 ? M_SCOPE : field == 2 ? M_SPAN : M_NONE;
  case M_SCOPE: return field == 3 ? M_KEY_VALUE : M_NONE;
  case M_SPAN: return field == 9 ? M_KEY_VALUE : field == 11 ? M_EVENT : field == 13 ? M_LINK : M_NONE;
  case M_EVENT: return field == 3 ? M_KEY_VALUE : M_NONE;
  case M_LINK: return field == 4 ? M_KEY_VALUE : M_NONE;
  case M_KEY_VALUE: return field == 2 ? M_ANY_VALUE : M_NONE;
  case M_ANY_VALUE: return field == 5 ? M_ARRAY_VALUE : field == 6 ? M_KVLIST_VALUE : M_NONE;
  case M_ARRAY_VALUE: return field == 1 ? M_ANY_VALUE : M_NONE;
  case M_KVLIST_VALUE: return field == 1 ? M_KEY_VALUE : M_NONE;
  default: return M_NONE;
  }
}

static int read_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= end) return 0;
    uint8_t byte = data[(*pos)++];
    value |= (uint64_t)(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = value;
      return 1;
    }
  }
  return 0;
}

typedef struct {
  size_t end;
  message_kind kind;
  int any_depth;
} frame;

spindle_wire_check spindle_check_trace_request(const uint8_t *data, size_t length, int max_anyvalue_depth) {
  // Each AnyValue level costs at most three frames (AnyValue, list, KeyValue) plus the fixed path
  // request > resource spans > scope spans > span > event/link > key value.
  enum { MAX_FRAMES = 8 + 3 * 256 };
  if (max_anyvalue_depth > 256) max_anyvalue_depth = 256;
  frame stack[MAX_FRAMES];
  int top = 0;
  stack[0] = (frame){length, M_REQUEST, 0};
  size_t pos = 0;

  while (1) {
    if (pos == stack[top].end) {
      if (top == 0) return SPINDLE_WIRE_OK;
      top--;
      continue;
    }
    uint64_t key;
    if (!read_varint(data, stack[top].end, &pos, &key)) return SPINDLE_WIRE_MALFORMED;
    uint32_t field = (uint32_t)(key >> 3);
    if (field == 0) return SPINDLE_WIRE_MALFORMED;
    switch (key & 7) {
    case 0: {
      uint64_t ignored;
      if (!read_varint(data, stack[top].end, &pos, &ignored)) return SPINDLE_WIRE_MALFORMED;
      break;
    }
    case 1:
      if (stack[top].end - pos < 8) return SPINDLE_WIRE_MALFORMED;
      pos += 8;
      break;
    case 5:
      if (stack[top].end - pos < 4) return SPINDLE_WIRE_MALFORMED;
      pos += 4;
      break;
    case 2: {
      uint64_t size;
      if (!read_varint(data, stack[top].end, &pos, &size)) return SPINDLE_WIRE_MALFORMED;
      if (size > stack[top].end - pos) return SPINDLE_WIRE_MALFORMED;
      message_kind child = child_kind(stack[top].kind, field);
      if (child == M_NONE) {
        pos += (size_t)size;
        break;
      }
      int depth = stack[top].any_depth + (child == M_ANY_VALUE ? 1 : 0);
      if (depth > max_anyvalue_depth) return SPINDLE_WIRE_TOO_DEEP;
      if (top + 1 >= MAX_FRAMES) return SPINDLE_WIRE_TOO_DEEP;
      top++;
      stack[top] = (frame){pos + (size_t)size, child, depth};
      break;
    }
    default:
      // Groups (3, 4) are not part of OTLP; 6 and 7 do not exist.
      return SPINDLE_WIRE_MALFORMED;
    }
  }
}
