#!/usr/bin/env python3
"""Lists the tests a Swift Testing log shows as started and never finished (passed, failed or skipped).

    python3 scripts/unfinished-tests.py .build/test-output.log
"""
import re
import sys

started = re.compile(r"^◇ (Test|Suite) (.+) started\.$")
ended = re.compile(r"^[✔✘] (Test|Suite) (.+) (?:passed|failed) after ")
ended_cases = re.compile(r"^[✔✘] (Test|Suite) (.+?) with \d+ test cases? (?:passed|failed) after ")
skipped = re.compile(r"^[➜↷] (Test|Suite) (.+) skipped")

running = {}
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for number, line in enumerate(log, 1):
        line = line.rstrip("\n")
        m = started.match(line)
        if m:
            # A parameterised test's cases print a start line each but no end line of their own.
            if not m.group(2).startswith("case passing"):
                running[(m.group(1), m.group(2))] = number
            continue
        m = ended_cases.match(line) or ended.match(line) or skipped.match(line)
        if m:
            running.pop((m.group(1), m.group(2)), None)
for (kind, name), number in sorted(running.items(), key=lambda item: item[1]):
    print(f"  {kind.lower()} {name} (started at line {number} of the log)")
if not running:
    print("  (none: the run stopped between tests)")
