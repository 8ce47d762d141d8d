#!/usr/bin/env bash
# Alarm evaluation, Plumb against Prometheus's rule evaluation in the same run: ALARMS alarms/rules, each over its
# own series, every one due at each evaluation.
#   Plumb:      plumb bench-alarms --statistic Maximum: Maximum over 60 s periods, 3 of 3, on a real store
#               (flushed to SQLite with the newest minutes in the head); wall and CPU seconds of one full tick.
#   Prometheus: ALARMS alerting rules `max_over_time(bench_latency{series="sI"}[1m]) > 150` with `for: 2m`,
#               split into two groups (groups run concurrently, one per core), over ALARMS scraped series;
#               prometheus_rule_group_last_duration_seconds: max over groups (wall of a tick) and sum (≈ CPU).
# Usage: bash bench/alarms.sh [ALARMS=10000] [ROUNDS=3]   (medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."
ALARMS=${1:-10000}
ROUNDS=${2:-3}
dpkg -s prometheus >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench-alarms.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== Plumb: $ALARMS alarms over $ALARMS series, $ROUNDS rounds of 5 ticks"
for round in $(seq "$ROUNDS"); do
  "$PLUMB" bench-alarms --alarms "$ALARMS" --series "$ALARMS" --statistic Maximum --ticks 5 --minutes 30 | tee -a "$WORK/plumb.json"
done
PW=$(python3 -c "import json,sys; print('\n'.join(str(json.loads(l)['tick_wall_seconds_median']) for l in open('$WORK/plumb.json')))" | median)
PC=$(python3 -c "import json,sys; print('\n'.join(str(json.loads(l)['tick_cpu_seconds_median']) for l in open('$WORK/plumb.json')))" | median)

echo "== Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3): $ALARMS rules over $ALARMS series"
python3 bench/exporter.py 19101 "$ALARMS" & PIDS+=($!)
python3 - "$ALARMS" > "$WORK/rules.yml" <<'PY'
import sys
n = int(sys.argv[1])
print("groups:")
for g in range(2):
    print(f"  - name: bench-{g}\n    interval: 10s\n    rules:")
    for i in range(g, n, 2):
        print(f'      - alert: bench_{i}\n        expr: max_over_time(bench_latency{{series="s{i}"}}[1m]) > 150\n        for: 2m')
PY
cat > "$WORK/prometheus.yml" <<YML
global: {scrape_interval: 5s, evaluation_interval: 10s}
rule_files: [$WORK/rules.yml]
scrape_configs:
  - job_name: bench
    static_configs: [{targets: ["127.0.0.1:19101"]}]
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --web.listen-address=127.0.0.1:19090 \
  >"$WORK/prometheus.log" 2>&1 & PIDS+=($!)
echo "  letting a minute of data accumulate …"
sleep 75
: > "$WORK/prom.wall"; : > "$WORK/prom.cpu"
for round in $(seq $((ROUNDS * 3))); do
  sleep 10
  curl -fs http://127.0.0.1:19090/metrics | awk '/^prometheus_rule_group_last_duration_seconds/ {print $2}' > "$WORK/groups"
  sort -g "$WORK/groups" | tail -1 >> "$WORK/prom.wall"
  awk '{s+=$1} END {print s}' "$WORK/groups" >> "$WORK/prom.cpu"
done
QW=$(median < "$WORK/prom.wall")
QC=$(median < "$WORK/prom.cpu")
python3 - "$ALARMS" "$PW" "$PC" "$QW" "$QC" <<'PY'
import sys
n, pw, pc, qw, qc = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"\nalarm evaluation, {n} alarms/rules, one tick (medians)")
print(f"  plumb       wall {pw*1000:8.1f} ms   cpu {pc*1000:8.1f} ms   {n/pw:10.0f} alarms/s")
print(f"  prometheus  wall {qw*1000:8.1f} ms   cpu~{qc*1000:8.1f} ms   {n/qw:10.0f} rules/s")
print(f"  ratio (prometheus time / plumb time): wall {qw/pw:.2f}x, cpu {qc/pc:.2f}x")
PY
