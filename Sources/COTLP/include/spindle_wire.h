// Hand-written helpers around the generated protobuf-c code (the rest of include/ is generated).
#ifndef SPINDLE_WIRE_H
#define SPINDLE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

// A bump allocator for protobuf-c: unpacking allocates from a few large blocks and nothing is freed
// one by one; the whole arena goes at once. Roughly halves decode time compared with malloc.
typedef struct spindle_arena spindle_arena;

spindle_arena *spindle_arena_create(size_t first_block_size);
void spindle_arena_destroy(spindle_arena *arena);
// An allocator whose alloc draws from `arena` and whose free does nothing.
ProtobufCAllocator spindle_arena_allocator(spindle_arena *arena);
// Bytes handed out so far (for tests and benchmarks).
size_t spindle_arena_used(const spindle_arena *arena);

typedef enum {
  SPINDLE_WIRE_OK = 0,
  SPINDLE_WIRE_MALFORMED = 1,
  SPINDLE_WIRE_TOO_DEEP = 2,
} spindle_wire_check;

// Walks an ExportTraceServiceRequest (or TracesData: same layout) without recursion and checks that
// AnyValue nesting stays within `max_anyvalue_depth`. protobuf-c unpacks recursively and does not bound
// the depth, so a hostile body could otherwise overflow the stack. Structural errors found on the way
// are reported as MALFORMED; everything else is left to protobuf-c.
spindle_wire_check spindle_check_trace_request(const uint8_t *data, size_t length, int max_anyvalue_depth);

#ifdef __cplusplus
}
#endif

#endif
