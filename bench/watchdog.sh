#!/usr/bin/env bash
# systemd notify timing: starts `plumb serve` with NOTIFY_SOCKET (a Unix datagram socket this script binds, as
# systemd would) and WATCHDOG_USEC=1000000, and prints how long READY=1 took from the start and the watchdog pings
# over SECONDS seconds: their count and the longest gap (systemd's limit is WATCHDOG_USEC; the server aims at half).
# The suite checks that READY=1, the pings and STOPPING=1 arrive; these figures are printed here, not asserted.
# Usage: bash bench/watchdog.sh [SECONDS=10]   (PLUMB=path/to/plumb to use a given binary instead of a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${1:-10}
if [ -z "${PLUMB:-}" ]; then
  swift build -c release --product plumb 2>&1 | tail -1
  PLUMB=$(swift build -c release --show-bin-path)/plumb
fi
WORK=$(mktemp -d /tmp/plumb-bench-watchdog.XXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$PLUMB" "$WORK" "$SECONDS_" <<'PY'
import os, signal, socket, subprocess, sys, time
plumb, work, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
path = os.path.join(work, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.1)
port = socket.socket(); port.bind(("127.0.0.1", 0)); free = port.getsockname()[1]; port.close()
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
log = open(os.path.join(work, "serve.log"), "w")
started = time.monotonic()
server = subprocess.Popen([plumb, "serve", "--data", os.path.join(work, "data"), "--listen", f"127.0.0.1:{free}"],
                          env=env, stdout=log, stderr=log)
ready, pings, stopping = None, [], None
try:
    while ready is None or time.monotonic() - ready < seconds:
        if time.monotonic() - started > 120: sys.exit("no READY=1 within 120 s")
        try:
            text = sock.recv(4096).decode()
        except socket.timeout:
            continue
        now = time.monotonic()
        if "READY=1" in text and ready is None: ready = now
        if text == "WATCHDOG=1" and ready is not None: pings.append(now)
    server.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while stopping is None and time.monotonic() < deadline:
        try:
            if "STOPPING=1" in sock.recv(4096).decode(): stopping = time.monotonic()
        except socket.timeout:
            pass
    server.wait(timeout=30)
finally:
    if server.poll() is None: server.kill()
gaps = [b - a for a, b in zip(pings, pings[1:])]
print(f"READY=1 {1000 * (ready - started):.0f} ms after the start")
print(f"watchdog: {len(pings)} pings in {seconds:.0f} s, gap mean {1000 * sum(gaps) / max(1, len(gaps)):.0f} ms, "
      f"longest {1000 * max(gaps, default=0):.0f} ms (WATCHDOG_USEC 1000 ms)")
print(f"STOPPING=1 {'seen' if stopping else 'not seen'}; exit status {server.returncode}")
PY
