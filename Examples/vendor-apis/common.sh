# Sourced by the example scripts: where Spindle is, and the auth header when a key is set.
SPINDLE_URL=${SPINDLE_URL:-http://127.0.0.1:4318}
AUTH=()
if [ -n "${SPINDLE_API_KEY:-}" ]; then AUTH=(-H "Authorization: Bearer $SPINDLE_API_KEY"); fi
