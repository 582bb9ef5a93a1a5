#include "spindle_wire.h"

#include <stdlib.h>

typedef struct block {
  struct block *next;
  size_t size;
  size_t used;
  _Alignas(16) unsigned char data[];
} block;

struct spindle_arena {
  block *head;
  size_t next_size;
  size_t total_used;
};

static block *block_new(size_t size) {
  block *b = malloc(sizeof(block) + size);
  if (b == NULL) return NULL;
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

spindle_arena *spindle_arena_create(size_t first_block_size) {
  spindle_arena *arena = malloc(sizeof(spindle_arena));
  if (arena == NULL) return NULL;
  if (first_block_size < 4096) first_block_size = 4096;
  arena->head = NULL;
  arena->next_size = first_block_size;
  arena->total_used = 0;
  return arena;
}

void spindle_arena_destroy(spindle_arena *arena) {
  if (arena == NULL) return;
  block *b = arena->head;
  while (b != NULL) {
    block *next = b->next;
    free(b);
    b = next;
  }
  free(arena);
}

static void *arena_alloc(void *allocator_data, size_t size) {
  spindle_arena *arena = allocator_data;
  size_t rounded = (size + 15) & ~(size_t)15;
  block *b = arena->head;
  if (b == NULL || b->size - b->used < rounded) {
    size_t want = arena->next_size;
    while (want < rounded) want *= 2;
    block *fresh = block_new(want);
    if (fresh == NULL) return NULL;
    fresh->next = b;
    arena->head = fresh;
    // Grow geometrically so a large request needs only a handful of blocks.
    if (arena->next_size < ((size_t)64 << 20)) arena->next_size *= 2;
    b = fresh;
  }
  void *result = b->data + b->used;
  b->used += rounded;
  arena->total_used += rounded;
  return result;
}

static void arena_free(void *allocator_data, void *pointer) {
  (void)allocator_data;
  (void)pointer;
}

ProtobufCAllocator spindle_arena_allocator(spindle_arena *arena) {
  ProtobufCAllocator allocator = {arena_alloc, arena_free, arena};
  return allocator;
}

size_t spindle_arena_used(const spindle_arena *arena) { return arena->total_used; }
