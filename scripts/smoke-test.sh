#!/usr/bin/env bash
# Post-deploy smoke test of an AkiDB server, runnable alone or sourced (it then only defines
# smoke_test, for scripts/deploy-blue-green.sh):
#
#   scripts/smoke-test.sh http://127.0.0.1:8080
#   AKIDB_API_KEY=... scripts/smoke-test.sh https://akidb.example.com
#
# Steps: create collection "smoke-test" (128-d, cosine; a leftover one from an aborted run is
# deleted first), read its collection_id, upsert 100 points one by one ("vec-0".."vec-99"),
# search k=10 and require exactly 10 results, require GET /health to say "ok", delete the
# collection. Exit 0 when every step passed, 1 naming the step that failed.
#
# Needs bash, curl and awk. JSON is read with python3 when present, else with grep/sed (the
# fields read are flat strings and the count of "score" keys, which sed handles safely).
# Environment: AKIDB_API_KEY (sent as a Bearer token), SMOKE_COLLECTION (default smoke-test),
# SMOKE_TIMEOUT_SECONDS (per request, default 10), SMOKE_JSON_PARSER=sed (skip python3).

# Reads a top-level string field from JSON on stdin.
smoke_json_field() {
  local field=$1
  if [ "${SMOKE_JSON_PARSER:-auto}" != sed ] && command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$field"
  else
    tr -d '\n' | sed -n "s/.*\"${field}\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p"
  fi
}

# Counts the entries of "results" in a search response on stdin.
smoke_json_result_count() {
  if [ "${SMOKE_JSON_PARSER:-auto}" != sed ] && command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))'
  else
    grep -o '"score"[[:space:]]*:' | wc -l | tr -d ' '
  fi
}

# The i-th deterministic 128-d vector as a JSON array.
smoke_vector() {
  awk -v i="$1" 'BEGIN { printf "["; for (d = 0; d < 128; d++) { printf "%s%.6f", (d ? "," : ""), sin(i * 0.37 + d * 0.11) + 0.01 * d }; printf "]" }'
}

# smoke_request METHOD URL [BODY]: prints the body, then the HTTP status on the last line.
smoke_request() {
  local method=$1 url=$2 body=${3-}
  local -a args=(-sS --max-time "${SMOKE_TIMEOUT_SECONDS:-10}" -X "$method" -w '\n%{http_code}')
  if [ -n "${AKIDB_API_KEY-}" ]; then args+=(-H "Authorization: Bearer ${AKIDB_API_KEY}"); fi
  if [ -n "$body" ]; then args+=(-H 'content-type: application/json' --data-binary "$body"); fi
  curl "${args[@]}" "$url"
}

smoke_fail() {
  echo "smoke test FAILED: $*" >&2
  return 1
}

# smoke_test BASE_URL: runs every step against the server at BASE_URL.
smoke_test() {
  local base=${1%/}
  local name=${SMOKE_COLLECTION:-smoke-test}
  local api="$base/api/v1/collections"
  local out status body id i
  [ -n "$base" ] || { smoke_fail "usage: smoke_test <base-url>"; return 1; }

  smoke_request DELETE "$api/$name" >/dev/null 2>&1 || true
  out=$(smoke_request POST "$api" "{\"name\":\"$name\",\"dimension\":128,\"metric\":\"cosine\"}") ||
    { smoke_fail "create collection: cannot reach $api"; return 1; }
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "$status" = 201 ] || { smoke_fail "create collection: HTTP $status: $body"; return 1; }
  id=$(printf '%s' "$body" | smoke_json_field collection_id)
  [ -n "$id" ] || { smoke_fail "create collection: no collection_id in $body"; return 1; }
  echo "created collection $name ($id)"

  for i in $(seq 0 99); do
    out=$(smoke_request POST "$api/$id/vectors" "{\"id\":\"vec-$i\",\"vector\":$(smoke_vector "$i")}") ||
      { smoke_fail "upsert vec-$i: request failed"; return 1; }
    status=${out##*$'\n'}
    [ "$status" = 200 ] || { smoke_fail "upsert vec-$i: HTTP $status: ${out%$'\n'*}"; return 1; }
  done
  echo "upserted 100 points one by one"

  out=$(smoke_request POST "$api/$id/search" "{\"vector\":$(smoke_vector 7),\"k\":10}") ||
    { smoke_fail "search: request failed"; return 1; }
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "$status" = 200 ] || { smoke_fail "search: HTTP $status: $body"; return 1; }
  local count
  count=$(printf '%s' "$body" | smoke_json_result_count)
  [ "$count" = 10 ] || { smoke_fail "search: expected 10 results, got $count: $body"; return 1; }
  echo "search k=10 returned 10 results"

  out=$(smoke_request GET "$base/health") || { smoke_fail "health: request failed"; return 1; }
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  if [ "$status" != 200 ] || ! printf '%s' "$body" | grep -q '"ok"'; then
    smoke_fail "health: HTTP $status: $body"
    return 1
  fi
  echo "health ok"

  out=$(smoke_request DELETE "$api/$id") || { smoke_fail "cleanup: request failed"; return 1; }
  status=${out##*$'\n'}
  [ "$status" = 204 ] || { smoke_fail "cleanup: HTTP $status"; return 1; }
  echo "smoke test passed against $base"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    echo "usage: $0 <base-url>   (e.g. http://127.0.0.1:8080; AKIDB_API_KEY for auth)" >&2
    exit 2
  fi
  smoke_test "$1"
fi
