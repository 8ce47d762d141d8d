#!/usr/bin/env python3
"""Prints what failed in a `swift test` log, so it is the last thing a CI log shows (CI keeps only the tail).

    python3 scripts/failed-tests.py .build/test-output.log

Prints Swift Testing's failed tests and the issues they recorded (with their indented detail lines),
XCTest failures, and crash or fatal-error lines; prints nothing when the log shows none.
"""
import re
import sys

issue = re.compile(r"^✘ (Test|Suite) .*(recorded an issue|failed after|with \d+ test cases? failed)")
detail = re.compile(r"^\s+(↳|\S.*:\d+:\d+)")
other = re.compile(r"(^error: |: error: |Fatal error|fatal error|Exited with unexpected signal|Test Case .* failed|"
                   r"Thread \d+ Crashed|Segmentation fault|Illegal instruction)")

lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
out = []
i = 0
while i < len(lines):
    line = lines[i]
    if issue.match(line) or other.search(line):
        out.append(line)
        j = i + 1
        # Swift Testing prints the expression's values and comments on indented lines after the issue.
        while j < len(lines) and lines[j].startswith((" ", "\t")) and j - i <= 12:
            out.append(lines[j])
            j += 1
        i = j
        continue
    i += 1
for line in out[-120:]:
    print(line[:1000])
