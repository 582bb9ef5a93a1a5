#!/usr/bin/env bash
# Basalt: one prompt output. slug and output are required; tokens and cost are computed when absent.
set -euo pipefail
. "$(dirname "$0")/common.sh"
curl -sS -X POST "$SPINDLE_URL/monitor/log" "${AUTH[@]}" \
  -H "Content-Type: application/json" -w '\nHTTP %{http_code}\n' \
  -d '{
    "name": "order-status-bot",
    "slug": "order-status",
    "version": "2.1.0",
    "tag": "production",
    "input": "Where is order 1042?",
    "output": "Order 1042 left the warehouse yesterday.",
    "idealOutput": "Order 1042 shipped on Monday.",
    "variables": [{"label": "order_id", "value": "1042"}],
    "startTime": "2026-11-25T09:00:00Z",
    "endTime": "2026-11-25T09:00:01.250Z",
    "organization": {"id": "org-7", "name": "Northwind"},
    "user": {"id": "u-31", "name": "Ada"},
    "metadata": {"channel": "chat", "model": "gpt-4o-mini"}
  }'
