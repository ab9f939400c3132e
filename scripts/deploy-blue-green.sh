#!/usr/bin/env bash
# Blue-green deployment of AkiDB on Kubernetes with the chart in deploy/helm/akidb.
#
#   scripts/deploy-blue-green.sh [--dry-run] <version>
#
# One Helm release per colour (akidb-blue, akidb-green; pods labelled akidb.io/color) and one
# stable Service ($SERVICE, default "akidb") whose selector names the live colour. Steps:
#   1. read the live colour from the Service selector (none yet: blue is idle first);
#   2. helm upgrade --install the idle colour with image.tag=<version>; wait for the StatefulSet
#      rollout and for every pod to be Ready (/ready = recovery done);
#   3. run the smoke test (scripts/smoke-test.sh) against the idle colour through a port-forward;
#   4. switch the Service selector to the idle colour;
#   5. watch the 5xx ratio of the new colour through Prometheus for $WATCH_SECONDS (it only gets
#      real traffic after the switch, so this is where a bad release shows); above
#      $MAX_5XX_RATIO, or when Prometheus cannot be queried, switch the selector back.
# The old colour is never deleted: it is the rollback target until the next deployment
# replaces it. A failure before the switch leaves traffic untouched and the idle release in
# place for inspection. Exit 0 on success, 1 on failure (rolled back), 2 on usage errors.
#
# Data: each colour has its own volumes. The script moves traffic, not collections: the idle
# colour must already serve the data (e.g. restored from S3 snapshots, or a shared cold tier
# read by both); see docs/DEPLOYMENT.md, "Blue-green".
#
# --dry-run prints every kubectl, helm and curl command instead of running it (the live colour
# is then taken from $ACTIVE_COLOR, default blue).
#
# Environment (defaults): NAMESPACE (akidb), SERVICE (akidb), RELEASE_PREFIX (akidb),
# CHART (deploy/helm/akidb next to this script), VALUES_FILE (none), PROMETHEUS_URL
# (http://prometheus-operated.monitoring:9090), WATCH_SECONDS (300), WATCH_INTERVAL_SECONDS (30),
# MAX_5XX_RATIO (0.01), READY_TIMEOUT (600s), LOCAL_PORT (18080), AKIDB_API_KEY (smoke test),
# PROM_POD_LABEL (pod: the label Prometheus puts the pod name in).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/smoke-test.sh
. "$here/smoke-test.sh"

NAMESPACE=${NAMESPACE:-akidb}
SERVICE=${SERVICE:-akidb}
RELEASE_PREFIX=${RELEASE_PREFIX:-akidb}
CHART=${CHART:-$here/../deploy/helm/akidb}
VALUES_FILE=${VALUES_FILE:-}
PROMETHEUS_URL=${PROMETHEUS_URL:-http://prometheus-operated.monitoring:9090}
WATCH_SECONDS=${WATCH_SECONDS:-300}
WATCH_INTERVAL_SECONDS=${WATCH_INTERVAL_SECONDS:-30}
MAX_5XX_RATIO=${MAX_5XX_RATIO:-0.01}
READY_TIMEOUT=${READY_TIMEOUT:-600s}
LOCAL_PORT=${LOCAL_PORT:-18080}
PROM_POD_LABEL=${PROM_POD_LABEL:-pod}
DRY_RUN=0

usage() {
  echo "usage: $0 [--dry-run] <version>" >&2
  exit 2
}

log() { echo "[blue-green] $*" >&2; }

# Dry-run lines go to fd 3 (the script's stdout), so commands run inside $(...) still show.
exec 3>&1

# Prints one argument so that a shell reads it back unchanged.
shell_quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# run CMD...: runs a command, or prints it under --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    local arg line="+"
    for arg in "$@"; do line+=" $(shell_quote "$arg")"; done
    echo "$line" >&3
  else
    "$@"
  fi
}

live_colour() {
  if [ "$DRY_RUN" = 1 ]; then
    run kubectl -n "$NAMESPACE" get service "$SERVICE" -o 'jsonpath={.spec.selector.akidb\.io/color}'
    echo "${ACTIVE_COLOR:-blue}"
    return
  fi
  kubectl -n "$NAMESPACE" get service "$SERVICE" -o 'jsonpath={.spec.selector.akidb\.io/color}' \
    2>/dev/null || true
}

# A JSON patch replacing the whole selector (a merge patch would keep stale keys).
selector_patch() {
  printf '[{"op":"replace","path":"/spec/selector","value":{"app.kubernetes.io/name":"akidb","akidb.io/color":"%s"}}]' "$1"
}

# switch_to COLOUR: points the stable Service at COLOUR, creating the Service the first time.
switch_to() {
  local colour=$1
  if [ "$DRY_RUN" = 0 ] && ! kubectl -n "$NAMESPACE" get service "$SERVICE" >/dev/null 2>&1; then
    run kubectl -n "$NAMESPACE" create service clusterip "$SERVICE" --tcp=8080:http
  fi
  run kubectl -n "$NAMESPACE" patch service "$SERVICE" --type json -p "$(selector_patch "$colour")"
  log "service $SERVICE now selects colour $colour"
}

deploy_idle() {
  local colour=$1 version=$2 release="$RELEASE_PREFIX-$1"
  local -a values=()
  if [ -n "$VALUES_FILE" ]; then values=(-f "$VALUES_FILE"); fi
  run helm upgrade --install "$release" "$CHART" --namespace "$NAMESPACE" --create-namespace \
    "${values[@]}" --set "color=$colour" --set "image.tag=$version" --wait --timeout "$READY_TIMEOUT"
  run kubectl -n "$NAMESPACE" rollout status "statefulset/$release" --timeout "$READY_TIMEOUT"
  run kubectl -n "$NAMESPACE" wait pod --for=condition=Ready \
    -l "app.kubernetes.io/instance=$release,akidb.io/color=$colour" --timeout "$READY_TIMEOUT"
}

smoke_idle() {
  local colour=$1 release="$RELEASE_PREFIX-$1" pf status=0
  if [ "$DRY_RUN" = 1 ]; then
    run kubectl -n "$NAMESPACE" port-forward "service/$release" "$LOCAL_PORT:8080"
    echo "+ smoke_test http://127.0.0.1:$LOCAL_PORT" >&3
    return 0
  fi
  kubectl -n "$NAMESPACE" port-forward "service/$release" "$LOCAL_PORT:8080" >/dev/null 2>&1 &
  pf=$!
  sleep 3
  smoke_test "http://127.0.0.1:$LOCAL_PORT" || status=$?
  kill "$pf" 2>/dev/null || true
  wait "$pf" 2>/dev/null || true
  return "$status"
}

# The new colour's 5xx ratio over the last minute, or "nan" without traffic; fails when
# Prometheus cannot be queried.
five_xx_ratio() {
  local colour=$1 selector query response
  selector="$PROM_POD_LABEL=~\"$RELEASE_PREFIX-$colour-[0-9]+\""
  query="sum(rate(akidb_http_requests_total{$selector,status=~\"5..\"}[1m])) / sum(rate(akidb_http_requests_total{$selector}[1m]))"
  if [ "$DRY_RUN" = 1 ]; then
    run curl -fsS --max-time 10 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$query"
    echo 0
    return 0
  fi
  response=$(curl -fsS --max-time 10 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$query") ||
    return 1
  # {"status":"success","data":{"result":[{"metric":{},"value":[<t>,"<ratio>"]}]}}; empty = no traffic.
  printf '%s' "$response" | tr -d '\n' |
    sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p' | grep . || echo nan
}

watch_errors() {
  local colour=$1 waited=0 ratio
  log "watching the 5xx ratio of $colour for ${WATCH_SECONDS}s (max $MAX_5XX_RATIO)"
  while :; do
    if ! ratio=$(five_xx_ratio "$colour"); then
      log "cannot query Prometheus at $PROMETHEUS_URL"
      return 1
    fi
    if [ "$ratio" != nan ] && [ "$ratio" != NaN ] &&
      awk -v r="$ratio" -v max="$MAX_5XX_RATIO" 'BEGIN { exit !(r > max) }'; then
      log "5xx ratio $ratio is above $MAX_5XX_RATIO"
      return 1
    fi
    [ "$waited" -lt "$WATCH_SECONDS" ] || return 0
    if [ "$DRY_RUN" = 1 ]; then
      echo "+ sleep $WATCH_INTERVAL_SECONDS (repeated until ${WATCH_SECONDS}s have passed)" >&3
      return 0
    fi
    sleep "$WATCH_INTERVAL_SECONDS"
    waited=$((waited + WATCH_INTERVAL_SECONDS))
  done
}

main() {
  local version=""
  while [ $# -gt 0 ]; do
    case $1 in
      --dry-run) DRY_RUN=1 ;;
      -h | --help) usage ;;
      -*) echo "unknown flag $1" >&2 && usage ;;
      *) [ -z "$version" ] || usage && version=$1 ;;
    esac
    shift
  done
  [ -n "$version" ] || usage

  local live idle
  live=$(live_colour)
  case $live in
    blue) idle=green ;;
    green) idle=blue ;;
    *) live="" idle=blue ;;
  esac
  log "live colour: ${live:-none}; deploying $version to $idle"

  if ! deploy_idle "$idle" "$version"; then
    log "FAILED: $idle did not become ready; traffic stays on ${live:-nothing}"
    return 1
  fi
  if ! smoke_idle "$idle"; then
    log "FAILED: smoke test of $idle; traffic stays on ${live:-nothing}"
    return 1
  fi
  switch_to "$idle"
  if ! watch_errors "$idle"; then
    if [ -n "$live" ]; then
      log "ROLLING BACK to $live"
      switch_to "$live"
    else
      log "no previous colour to roll back to"
    fi
    return 1
  fi
  log "done: $idle ($version) is live; ${live:-no colour} kept for rollback" \
    "(remove it with: helm uninstall $RELEASE_PREFIX-${live:-<colour>} -n $NAMESPACE)"
}

main "$@"
