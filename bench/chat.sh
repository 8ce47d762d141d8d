#!/usr/bin/env bash
# Chat scale benchmark (release build): holds CONNECTIONS WebSocket connections on the chat, MEMBERS of them in one
# room, and sends RATE messages a second to that room for DURATION seconds; reports the fan-out latency from the
# intended send to the arrival at every member (p50/p90/p99/max), deliveries, and the server's memory per
# connection. Client and server share this machine.
#   bash bench/chat.sh [CONNECTIONS=10000] [MEMBERS=1000] [RATE=100] [DURATION=20]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-10000}
MEMBERS=${MEMBERS:-1000}
RATE=${RATE:-100}
DURATION=${DURATION:-20}
# Each side needs a descriptor per connection: raise the soft limit as far as the hard limit allows.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((CONNECTIONS + 500)) ] || echo "warning: open-file limit $(ulimit -n) is below $CONNECTIONS connections" >&2
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
DATA=$(mktemp -d /tmp/plumb-bench-chat.XXXXXX)
PORT=${PORT:-9471}
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$PLUMB" serve --data "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
"$PLUMB" bench-chat --url "ws://127.0.0.1:$PORT/apps/chat/ws" --connections "$CONNECTIONS" --members "$MEMBERS" \
  --rate "$RATE" --duration "$DURATION" --server-pid "$SERVER"
echo "server: $(grep -c 'closing a slow consumer' "$DATA/serve.log" || true) slow consumers closed"

# The peer, same client, same machine: a bare broadcast server on Python's websockets (no storage, no sentiment).
PEER_PORT=$((PORT + 1))
python3 bench/ws_broadcast.py --port "$PEER_PORT" >"$DATA/peer.log" 2>&1 &
PEER=$!
trap 'kill $SERVER $PEER 2>/dev/null || true; wait $SERVER $PEER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PEER_PORT") 2>/dev/null && break; sleep 0.1; done
echo "peer: python websockets broadcast server"
"$PLUMB" bench-chat --url "ws://127.0.0.1:$PEER_PORT/apps/chat/ws" --connections "$CONNECTIONS" --members "$MEMBERS" \
  --rate "$RATE" --duration "$DURATION" --server-pid "$PEER"
