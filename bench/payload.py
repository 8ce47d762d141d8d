#!/usr/bin/env python3
"""Writes a line-protocol payload as files of 10,000 lines each, the bodies both ingest clients send.

usage: payload.py DIR KIND HOSTS STEPS
  KIND regular:   measurement `bench`, tags host and region, two fields a line (usage_user, a 3-decimal gauge, and
                  usage_system, an integer), timestamps 10 s apart: HOSTS × 2 series, STEPS points each.
  KIND irregular: real-looking data, HOSTS series of each kind with STEPS points: latencies (log-normal, 3 decimals,
                  timestamps jittered ±2 s around a 10 s step), decimal gauges (a 2-decimal random walk, 15 s step) and
                  counters (an integer that grows by a random amount, 30 s step).
Timestamps end a minute ago, in seconds. Prints the number of samples.
"""
import math
import os
import random
import sys
import time

directory, kind, hosts, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(directory, exist_ok=True)
end = int(time.time()) - 60
lines_per_file = 10_000
buffer, files, samples = [], 0, 0


def emit(line, count):
    global files, samples, buffer
    buffer.append(line)
    samples += count
    if len(buffer) == lines_per_file:
        flush()


def flush():
    global files, buffer
    if buffer:
        with open(os.path.join(directory, f"part-{files:05d}.lp"), "w") as f:
            f.write("\n".join(buffer))
        files += 1
        buffer = []


if kind == "regular":
    for step in range(steps):
        ts = end - (steps - 1 - step) * 10
        for host in range(hosts):
            emit(f"bench,host=h{host},region=r{host % 5} usage_user={(host * 7 + step) % 100 / 3:.3f},usage_system={(host + step * 3) % 50}i {ts}", 2)
else:
    rng = random.Random(7)
    gauges = [20 + rng.random() * 10 for _ in range(hosts)]
    counters = [rng.randrange(10**6) for _ in range(hosts)]
    for step in range(steps):
        for host in range(hosts):
            ts = end - (steps - 1 - step) * 10 + rng.randint(-2, 2)
            emit(f"latency,host=h{host},route=/r{host % 20} ms={math.exp(rng.gauss(3, 0.8)):.3f} {ts}", 1)
            gauges[host] += rng.gauss(0, 0.1)
            emit(f"gauge,host=h{host} temperature={gauges[host]:.2f} {end - (steps - 1 - step) * 15}", 1)
            counters[host] += rng.randrange(0, 500)
            emit(f"counter,host=h{host} requests={counters[host]}i {end - (steps - 1 - step) * 30}", 1)
flush()
print(samples)
