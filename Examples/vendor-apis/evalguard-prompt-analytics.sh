#!/usr/bin/env bash
# EvalGuard: one prompt usage event; feeds the per-version analytics (spindle prompts PROMPT_ID).
set -euo pipefail
. "$(dirname "$0")/common.sh"
curl -sS -X POST "$SPINDLE_URL/api/v1/prompts/analytics" "${AUTH[@]}" \
  -H "Content-Type: application/json" -w 'HTTP %{http_code}\n' \
  -d '{"prompt_id": "3b1e2d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "version_hash": "a41f9c2", "latency_ms": 730,
       "cost_usd": 0.0009, "score": 0.87}'
