#!/usr/bin/env bash
# DeepRails: log one AI response for monitor MONITOR_ID (default mon-docs), then read it back.
set -euo pipefail
. "$(dirname "$0")/common.sh"
monitor=${1:-mon-docs}
answer=$(curl -sS -X POST "$SPINDLE_URL/monitor/$monitor/events" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "model_input": {"prompt": "Summarise the incident report.", "context": "You write for on-call engineers."},
    "model_output": {"response": "The disk filled up at 03:10; logs were rotated and the service recovered."},
    "temperature": 0.3, "top_p": 0.95, "top_k": 40, "model": "gpt-4o",
    "tokens": {"input_tokens": 412, "output_tokens": 37}
  }')
echo "$answer"
event=$(printf '%s' "$answer" | sed -n 's/.*"event_id":"\([^"]*\)".*/\1/p')
curl -sS "$SPINDLE_URL/monitor/$monitor/events/$event" "${AUTH[@]}" -w '\nHTTP %{http_code}\n'
