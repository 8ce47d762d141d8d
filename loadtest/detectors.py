#!/usr/bin/env python3
"""Simulated muon detectors: realistic 16-field readings (about 450 bytes of JSON each), two a second per detector:
about 1 KB/s each.

    detectors.py readings --detectors 50 --seconds 10 [--start EPOCH_MS] > readings.ndjson
    detectors.py register --base http://127.0.0.1:9400 --detectors 50      (project, site, detectors)
    detectors.py stream --base http://127.0.0.1:9400 --detectors 50 --seconds 30 --acked acked.ndjson

`stream` posts each detector's readings as they are taken, every 500 ms (one request per reading, as a device on
a flaky link would) and appends the (detector, timestamp) of every acknowledged reading to --acked, flushed as it goes, so a
test can kill the server at any moment and know what was acknowledged."""
import argparse
import asyncio
import json
import math
import random
import sys
import time
import urllib.request


def reading(detector, index, t_ms, rng):
    base_rate = 1.0 + (hash(detector) % 50) / 100
    rate = max(0.0, rng.gauss(base_rate, 0.1))
    events = int(rate * 60 + rng.gauss(0, 3))
    return {
        "detector": detector,
        "timestamp": t_ms,
        "event_count": max(0, events),
        "coincidence_count": max(0, int(events * 0.2 + rng.gauss(0, 1))),
        "rate_hz": round(rate, 4),
        "temperature_c": round(18 + 4 * math.sin(index / 600) + rng.gauss(0, 0.2), 3),
        "pressure_hpa": round(1013 + rng.gauss(0, 2), 2),
        "humidity_pct": round(min(100, max(0, 45 + rng.gauss(0, 5))), 2),
        "sipm_voltage_v": round(29.4 + rng.gauss(0, 0.02), 4),
        "sipm_current_ua": round(1.1 + rng.gauss(0, 0.05), 4),
        "dead_time_ms": round(abs(rng.gauss(0.3, 0.05)), 4),
        "adc_peak": int(800 + rng.gauss(0, 40)),
        "adc_area": int(5100 + rng.gauss(0, 200)),
        "battery_v": round(3.9 - index * 1e-6, 5),
        "rssi_dbm": int(-70 + rng.gauss(0, 3)),
        "firmware": "muon-fw 2.4.1 (build 7f3a9c, \"stable\")",
    }


def names(n):
    return [f"D-{i:05d}" for i in range(n)]


def post(url, body, timeout=10):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read() or b"{}")


def register(base, n):
    post(base + "/apps/sensors/projects", json.dumps({"id": "muon", "name": "Muon survey"}).encode())
    post(base + "/apps/sensors/sites", json.dumps({"id": "site-1", "project": "muon", "latitude": 51.5, "longitude": -0.12}).encode())
    for d in names(n):
        post(base + "/apps/sensors/detectors", json.dumps({"id": d, "site": "site-1"}).encode())


async def stream(base, n, seconds, acked_path):
    loop = asyncio.get_running_loop()
    from concurrent.futures import ThreadPoolExecutor
    loop.set_default_executor(ThreadPoolExecutor(max_workers=min(200, n * 2)))
    acked = open(acked_path, "a")
    start = int(time.time() * 1000)
    stats = {"acked": 0, "failed": 0}

    async def device(d, k):
        rng = random.Random(k)
        for i in range(seconds * 2):
            t_ms = start + i * 500
            body = (json.dumps(reading(d, i, t_ms, rng)) + "\n").encode()
            try:
                status, answer = await loop.run_in_executor(None, post, base + "/apps/sensors/ingest", body, 5)
                if status == 200 and answer.get("accepted", 0) + answer.get("duplicates", 0) == 1:
                    acked.write(json.dumps([d, t_ms]) + "\n")
                    acked.flush()
                    stats["acked"] += 1
            except Exception:
                stats["failed"] += 1
            await asyncio.sleep(max(0, (start + (i + 1) * 500) / 1000 - time.time()))

    await asyncio.gather(*(device(d, k) for k, d in enumerate(names(n))))
    print(json.dumps(stats))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["readings", "register", "stream"])
    parser.add_argument("--base", default="http://127.0.0.1:9400")
    parser.add_argument("--detectors", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--start", type=int, default=None)
    parser.add_argument("--acked", default="acked.ndjson")
    args = parser.parse_args()
    if args.command == "readings":
        start = args.start or int(time.time() * 1000)
        for k, d in enumerate(names(args.detectors)):
            rng = random.Random(k)
            for i in range(args.seconds * 2):
                sys.stdout.write(json.dumps(reading(d, i, start + i * 500, rng)) + "\n")
    elif args.command == "register":
        register(args.base, args.detectors)
    else:
        asyncio.run(stream(args.base, args.detectors, args.seconds, args.acked))


main()
