#include <zlib.h>

// deflateInit2 is a macro, which Swift cannot call: raw deflate (no zlib or gzip framing).
static inline int spindle_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
