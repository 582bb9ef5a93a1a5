#!/usr/bin/env bash
# Braintrust: insert project log rows. PROJECT is the project's id (spindle keys create prints it) or,
# without keys, any project name. Rows form a tree through span_id / root_span_id / span_parents.
set -euo pipefail
. "$(dirname "$0")/common.sh"
project=${1:-default}
curl -sS -X POST "$SPINDLE_URL/v1/project_logs/$project/insert" "${AUTH[@]}" \
  -H "Content-Type: application/json" -w '\nHTTP %{http_code}\n' \
  -d '{
    "events": [
      {"id": "row-run-1", "span_id": "run-1", "root_span_id": "run-1",
       "input": {"question": "What changed in v2?"}, "output": "Faster exports.",
       "span_attributes": {"name": "answer-question", "type": "task"},
       "metrics": {"start": 1764061200.0, "end": 1764061202.5}, "tags": ["docs"]},
      {"id": "row-llm-1", "span_id": "llm-1", "root_span_id": "run-1", "span_parents": ["run-1"],
       "input": [{"role": "system", "content": "Answer from the changelog."},
                 {"role": "user", "content": "What changed in v2?"}],
       "output": [{"role": "assistant", "content": "Faster exports."}],
       "metadata": {"model": "gpt-4o-mini", "temperature": 0},
       "metrics": {"start": 1764061200.2, "end": 1764061201.9, "prompt_tokens": 42, "completion_tokens": 5, "tokens": 47},
       "span_attributes": {"name": "chat", "type": "llm"}},
      {"span_id": "score-1", "root_span_id": "run-1", "span_parents": ["run-1", "llm-1"],
       "scores": {"accuracy": 1}, "span_attributes": {"name": "accuracy", "type": "score"},
       "metrics": {"start": 1764061202.0, "end": 1764061202.1}}
    ]
  }'
