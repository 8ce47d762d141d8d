#!/usr/bin/env bash
# Three Plumb nodes behind nginx (deploy/cluster/nginx.conf) on one VictoriaMetrics and one PostgreSQL 15
# (storage.metrics: victoriametrics, storage.logs and storage.state: postgres), against the peers alone, in one run:
#   1. ingest: the same line-protocol payload (bench/payload.py: 1,000 hosts x 2 fields x 250 points = 500,000
#      samples) through nginx into 1, 2 and 3 nodes into VictoriaMetrics, and straight into a second VictoriaMetrics
#      alone (bench/ingest.py: Python, 4 threads, keep-alive); fresh stores every round, the order alternated:
#      samples/s, and the CPU seconds the Plumb nodes and VictoriaMetrics spent (from /proc) per million samples;
#   2. notifications: NOTIFY messages published through nginx to a topic with one webhook subscription (the test
#      receiver, Tests/peers/webhook_receiver.py) until every delivery is recorded (bench/notify.py, 8 threads),
#      on 1, 2 and 3 nodes: messages accepted/s and deliveries/s end to end, and the CPU seconds of the nodes and of
#      PostgreSQL per thousand notifications; the receiver alone under wrk (16 connections) is the ceiling;
#   3. alarm evaluation: plumb bench-alarms --victoriametrics (10,000 mixed alarms over 1,000 series) on
#      VictoriaMetrics (-search.latencyOffset=0s, as deploy/ asks) against the embedded engine: wall of one tick.
# Everything shares this machine's cores (2 here): the figures say what one host does, the ratios what the
# cluster's hops cost; docs/capacity.md fits the Universal Scalability Law to them.
# Usage: bash bench/cluster.sh [ROUNDS=3] [NOTIFY=3000] [OUT=file.jsonl]   (medians are reported; every
# measurement is also one JSON line in OUT)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
NOTIFY=${2:-3000}
OUT=${3:-/dev/null}
for pkg in victoria-metrics nginx-light curl bc wrk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/postgres" ] || { echo "PostgreSQL is not installed (PLUMB_TEST_PEERS=1 bash scripts/setup.sh)" >&2; exit 1; }
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench-cluster.XXXX)
chmod 755 "$WORK"
PIDS=()
PGPID=
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$PGPID" ] && kill -INT "$PGPID" 2>/dev/null
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null
  sleep 1; rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { python3 bench/ingest.py "$1" "$2" "$WORK/set" "$SAMPLES" 4 | python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])"; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }

# PostgreSQL as its own user, in a temporary cluster.
PGPORT=$(free_port)
mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg" && chmod 700 "$WORK/pg"
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$BIN/initdb" -D "$WORK/pg/data" -U plumb \
  --auth=trust --encoding=UTF8 >/dev/null
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$BIN/postgres" -D "$WORK/pg/data" -p "$PGPORT" \
  -k "$WORK/pg" -c listen_addresses=127.0.0.1 -c max_connections=200 >"$WORK/pg.log" 2>&1 &
PGPID=$!
for _ in $(seq 100); do grep -q "ready to accept connections" "$WORK/pg.log" 2>/dev/null && break; sleep 0.2; done

RECEIVER_PORT=$(free_port)
python3 Tests/peers/webhook_receiver.py --port "$RECEIVER_PORT" --log /dev/null >"$WORK/receiver.log" 2>&1 & PIDS+=($!)
TOKEN="bench-cluster-$(date +%s%N)"
export PLUMB_BENCH_TOKEN="$TOKEN" PLUMB_BENCH_SECRETS=$(head -c 32 /dev/urandom | base64)
mkdir -p "$WORK/alerts"
printf 'topics:\n  - name: bench\n    subscriptions:\n      - {protocol: webhook, endpoint: "http://127.0.0.1:%s/hook"}\n' \
  "$RECEIVER_PORT" > "$WORK/alerts/bench.yaml"

VM_PORT=$(free_port); VM_ALONE_PORT=$(free_port)
NODE_PORTS=($(free_port) $(free_port) $(free_port)); LB_PORT=$(free_port)
# One round's stores: fresh VictoriaMetrics pair and a fresh PostgreSQL database; NODES Plumb nodes (and nginx).
start() {
  local nodes=$1 db="plumb_$RANDOM$RANDOM"
  rm -rf "$WORK/vm" "$WORK/vm-alone" "$WORK/n"*
  victoria-metrics -storageDataPath="$WORK/vm" -httpListenAddr=127.0.0.1:$VM_PORT -retentionPeriod=100y \
    -maxLabelsPerTimeseries=40 -search.latencyOffset=0s >"$WORK/vm.log" 2>&1 & V1=$!
  victoria-metrics -storageDataPath="$WORK/vm-alone" -httpListenAddr=127.0.0.1:$VM_ALONE_PORT -retentionPeriod=100y \
    -maxLabelsPerTimeseries=40 >"$WORK/vm-alone.log" 2>&1 & V2=$!
  wait_http "http://127.0.0.1:$VM_PORT/health"; wait_http "http://127.0.0.1:$VM_ALONE_PORT/health"
  setpriv --reuid=postgres --regid=postgres --clear-groups -- "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U plumb "$db"
  NODE_PIDS=()
  for i in $(seq "$nodes"); do
    local port=${NODE_PORTS[$((i - 1))]}
    mkdir -p "$WORK/n$i"
    cat > "$WORK/n$i/plumb.yaml" <<YAML
admin_token_env: PLUMB_BENCH_TOKEN
secrets_key_env: PLUMB_BENCH_SECRETS
alerts: $WORK/alerts
storage:
  metrics: victoriametrics
  victoriametrics: {url: "http://127.0.0.1:$VM_PORT"}
  logs: postgres
  state: postgres
  postgres: {url: "postgres://plumb@127.0.0.1:$PGPORT/$db?sslmode=disable"}
cluster: {node: "bench-$i", url: "http://127.0.0.1:$port"}
http: {per_address_exempt: [127.0.0.1]}
YAML
    "$PLUMB" serve --config "$WORK/n$i/plumb.yaml" --data "$WORK/n$i/data" --listen "127.0.0.1:$port" \
      >"$WORK/n$i/log" 2>&1 & NODE_PIDS+=($!)
  done
  for i in $(seq "$nodes"); do wait_http "http://127.0.0.1:${NODE_PORTS[$((i - 1))]}/readyz"; done
  if true; then
    mkdir -p "$WORK/nginx/tmp"
    python3 - "$WORK/nginx/nginx.conf" "$LB_PORT" "${NODE_PORTS[@]:0:$nodes}" <<'PY'
import re, sys
out, port, upstreams = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open("deploy/cluster/nginx.conf").read()
servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
text = re.sub(r"(        server 10\.0\.0\.\d+:9400[^\n]*\n)+", servers, text)
text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
d = out.rsplit("/", 1)[0]
text = text.replace("events {}", f"user root;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nworker_processes 2;\nevents {{}}")
temp = "".join(f"    {kind}_temp_path {d}/tmp/{kind};\n" for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
text = text.replace("http {", "http {\n    access_log off;\n" + temp, 1)
open(out, "w").write(text)
PY
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
    wait_http "http://127.0.0.1:$LB_PORT/healthz"
    FRONT="http://127.0.0.1:$LB_PORT"
  fi
}
# The balancer and the nodes; then VictoriaMetrics too.
stop_front() {
  [ -f "$WORK/nginx/nginx.pid" ] && { kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true; sleep 0.5; rm -rf "$WORK/nginx"; }
  kill -TERM "${NODE_PIDS[@]}" 2>/dev/null || true
  wait "${NODE_PIDS[@]}" 2>/dev/null || true
}
stop() {
  stop_front
  kill -TERM "$V1" "$V2" 2>/dev/null || true
  wait "$V1" "$V2" 2>/dev/null || true
}

# CPU seconds (user + system) of processes, from /proc.
cpu() { local t=0; for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t / $(getconf CLK_TCK)" | bc -l; }
pgpids() { pgrep -d ' ' -f "postgres: plumb" || true; }
SAMPLES=$(python3 bench/payload.py "$WORK/set" regular 1000 250)
echo "== payload: $SAMPLES samples in $(ls "$WORK/set" | wc -l) files; $NOTIFY notifications; $ROUNDS rounds"
: > "$WORK/rows"
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="1 2 3"; else order="3 2 1"; fi
  for nodes in $order; do
    start "$nodes"
    # What the nodes spend doing nothing (heartbeats, refreshes, their own metrics), to tell it from per-operation cost.
    sleep 2; i0=$(cpu "${NODE_PIDS[@]}"); sleep 5; i1=$(cpu "${NODE_PIDS[@]}")
    c0=$(cpu "${NODE_PIDS[@]}"); v0=$(cpu "$V1")
    r=$(rate "$FRONT/write?precision=s" "$TOKEN")
    c1=$(cpu "${NODE_PIDS[@]}"); v1=$(cpu "$V1")
    a0=$(cpu "$V2"); alone=$(rate "http://127.0.0.1:$VM_ALONE_PORT/write?precision=s" -); a1=$(cpu "$V2")
    p0=$(cpu $(pgpids)); n0=$(cpu "${NODE_PIDS[@]}")
    python3 bench/notify.py "$FRONT" "$TOKEN" bench "$NOTIFY" 8 > "$WORK/notify.json"
    p1=$(cpu $(pgpids)); n1=$(cpu "${NODE_PIDS[@]}")
    python3 - "$WORK/notify.json" "$nodes" "$round" "$r" "$alone" "$SAMPLES" "$NOTIFY" \
      "$c0" "$c1" "$v0" "$v1" "$a0" "$a1" "$n0" "$n1" "$p0" "$p1" "$i0" "$i1" >> "$WORK/rows" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))
nodes, rnd, rate, alone, samples, notify = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
c0, c1, v0, v1, a0, a1, n0, n1, p0, p1, i0, i1 = map(float, sys.argv[8:20])
print(json.dumps({
    "idle_cpu_seconds_per_node_second": (i1 - i0) / 5 / nodes, "ingest_seconds": samples / rate,
    "notify_seconds": n["seconds"], "plumb_cpu_seconds_ingest": c1 - c0, "plumb_cpu_seconds_notify": n1 - n0,
    "nodes": nodes, "round": rnd, "ingest_samples_per_second": rate, "vm_alone_samples_per_second": alone,
    "plumb_cpu_seconds_per_million_samples": (c1 - c0) / samples * 1e6,
    "vm_cpu_seconds_per_million_samples": (v1 - v0) / samples * 1e6,
    "vm_alone_cpu_seconds_per_million_samples": (a1 - a0) / samples * 1e6,
    "notify_publish_per_second": n["publish_per_second"], "notify_delivered_per_second": n["delivered_per_second"],
    "notify_refused": n["refused"], "notify_failed": n["failed_deliveries"],
    "plumb_cpu_seconds_per_thousand_notifications": (n1 - n0) / notify * 1e3,
    "postgres_cpu_seconds_per_thousand_notifications": (p1 - p0) / notify * 1e3,
}))
PY
    stop
    tail -1 "$WORK/rows" | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"  round {r['round']}, {r['nodes']} node(s): ingest {r['ingest_samples_per_second']:.0f}/s (victoria-metrics alone {r['vm_alone_samples_per_second']:.0f}/s), notifications delivered {r['notify_delivered_per_second']:.0f}/s\")"
  done
done
cat "$WORK/rows" >> "$OUT"

# The receiver alone: the ceiling of deliveries/s on this machine.
printf 'wrk.method = "POST"\nwrk.body = string.rep("x", 600)\nwrk.headers["Content-Type"] = "application/json"\n' > "$WORK/post.lua"
CEILING=$(wrk -t2 -c16 -d5s -s "$WORK/post.lua" "http://127.0.0.1:$RECEIVER_PORT/hook" | awk '/Requests\/sec/ {print $2}')

# Alarm evaluation on VictoriaMetrics (-search.latencyOffset=0s) and on the embedded engine, alternated.
: > "$WORK/a.vm"; : > "$WORK/a.sqlite"
for round in $(seq "$ROUNDS"); do
  start 1
  stop_front
  "$PLUMB" bench-alarms --victoriametrics "http://127.0.0.1:$VM_PORT" | field tick_wall_seconds_median >> "$WORK/a.vm"
  "$PLUMB" bench-alarms | field tick_wall_seconds_median >> "$WORK/a.sqlite"
  kill -TERM "$V1" "$V2"; wait "$V1" "$V2" 2>/dev/null || true
  printf "  alarms round %s: a tick of 10,000 on victoria-metrics %.3f s, on the embedded engine %.3f s\n" \
    "$round" "$(tail -1 "$WORK/a.vm")" "$(tail -1 "$WORK/a.sqlite")"
done

AV=$(median < "$WORK/a.vm"); AS=$(median < "$WORK/a.sqlite")
echo "{\"alarm_tick_seconds_victoriametrics\": $AV, \"alarm_tick_seconds_sqlite\": $AS, \"receiver_ceiling_per_second\": $CEILING}" >> "$OUT"
echo
python3 - "$WORK/rows" "$CEILING" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ceiling = float(sys.argv[2])
def med(n, key): return statistics.median(r[key] for r in rows if r["nodes"] == n)
alone = statistics.median(r["vm_alone_samples_per_second"] for r in rows)
for n in sorted({r["nodes"] for r in rows}):
    i = med(n, "ingest_samples_per_second")
    print(f"{n} node(s) behind nginx: ingest {i:.0f} samples/s ({i / alone:.2f}x of victoria-metrics alone, {alone:.0f}), "
          f"{med(n, 'plumb_cpu_seconds_per_million_samples'):.2f} plumb + {med(n, 'vm_cpu_seconds_per_million_samples'):.2f} "
          f"victoria-metrics CPU s per million (alone {med(n, 'vm_alone_cpu_seconds_per_million_samples'):.2f}); "
          f"notifications accepted {med(n, 'notify_publish_per_second'):.0f}/s, delivered {med(n, 'notify_delivered_per_second'):.0f}/s "
          f"({med(n, 'notify_delivered_per_second') / ceiling:.2f}x of the receiver alone, {ceiling:.0f}/s), "
          f"{med(n, 'plumb_cpu_seconds_per_thousand_notifications'):.2f} plumb + {med(n, 'postgres_cpu_seconds_per_thousand_notifications'):.2f} postgres CPU s per thousand")
PY
printf "alarm evaluation, median of %s: a tick of 10,000 alarms on victoria-metrics %.3f s, on the embedded engine %.3f s (%.2fx)\n" \
  "$ROUNDS" "$AV" "$AS" "$(echo "$AV / $AS" | bc -l)"
