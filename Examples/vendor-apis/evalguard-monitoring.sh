#!/usr/bin/env bash
# EvalGuard: a batch of production logs (at most 100). A log with a score below 0.3 is flagged.
set -euo pipefail
. "$(dirname "$0")/common.sh"
curl -sS -X POST "$SPINDLE_URL/api/v1/monitoring" "${AUTH[@]}" \
  -H "Content-Type: application/json" -w '\nHTTP %{http_code}\n' \
  -d '{
    "projectId": "7d2f4c1e-8a9b-4c3d-9e0f-1a2b3c4d5e6f",
    "logs": [
      {"appId": "support-bot", "model": "gpt-4o-mini", "input": "How do I reset my password?",
       "output": "Open Settings, then Security, then Reset password.", "scores": {"helpfulness": 0.92},
       "latencyMs": 812, "costUsd": 0.00021},
      {"appId": "support-bot", "model": "gpt-4o-mini", "input": "Can I get a refund?",
       "output": "I like turtles.", "scores": {"helpfulness": 0.05}, "latencyMs": 640}
    ]
  }'
