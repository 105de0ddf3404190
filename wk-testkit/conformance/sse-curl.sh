#!/usr/bin/env bash
# Curl-level check: the basic SSE stream's bytes equal spec/protocol/examples/sse_stream.txt (the
# protocol's byte-exact example). Usage: WK_TESTKIT_BIN=path/to/wk-testkit ./sse-curl.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${WK_TESTKIT_BIN:-$here/../../target/debug/wk-testkit}"
data="$here/../../spec/protocol/examples"
tmp="$(mktemp -d)"
# The example is the v1.5.8 stream (each kill twice), which the legacy profile serves.
"$bin" --addr 127.0.0.1:0 --profile legacy --sse-ping-ms 600 >"$tmp/server.out" &
server=$!
curl_pid=""
cleanup() {
  [ -n "$curl_pid" ] && kill "$curl_pid" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$tmp/server.out" ] && break; sleep 0.05; done
base="$(head -1 "$tmp/server.out" | sed -E 's/.*base_url=([^ ]+).*/\1/')"
curl -sN "$base/api/v1/kills/stream?system_ids=30002813,30000142" >"$tmp/stream.txt" &
curl_pid=$!
wait_for() { # needle count
  for _ in $(seq 200); do
    [ "$(grep -c -- "$1" "$tmp/stream.txt" || true)" -ge "$2" ] && return 0
    sleep 0.02
  done
  echo "timeout waiting for $2 × '$1'" >&2
  cat "$tmp/stream.txt" >&2
  exit 1
}
wait_for "^retry: 2000" 1
curl -s -o /dev/null -H 'content-type: application/json' --data-binary @"$data/killmail.json" "$base/_testkit/killmails"
wait_for "^data: " 2
wait_for "^: ping" 2
curl -s -o /dev/null -H 'content-type: application/json' --data-binary @"$data/killmail_solo_capsule.json" "$base/_testkit/killmails"
wait_for "^data: " 4
wait_for "^: ping" 3
size="$(wc -c <"$data/sse_stream.txt")"
if cmp -n "$size" "$tmp/stream.txt" "$data/sse_stream.txt"; then
  echo "sse-curl: basic stream bytes match sse_stream.txt ($size bytes)"
else
  echo "sse-curl: MISMATCH" >&2
  diff <(head -c "$size" "$tmp/stream.txt") "$data/sse_stream.txt" >&2 || true
  exit 1
fi
