#!/usr/bin/env python3
"""Checks that Package.swift and docs/architecture.md's target table agree: each target's dependencies are exactly
the `imports` cell of its row, every target has a row, and every row (but the planned ones) is a target.

    swift package dump-package | python3 scripts/check-targets.py docs/architecture.md
"""
import json
import re
import sys


def table(path):
    rows = {}
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`") or "*planned*" in cells[1]:
            continue
        imports = set(re.findall(r"`([^`]+)`", cells[2]))
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = imports
    return rows


def main():
    documented = table(sys.argv[1])
    package = json.load(sys.stdin)
    problems = []
    names = set()
    for target in package["targets"]:
        if target["type"] == "test" or target["name"].endswith("Testing"):
            continue
        name = target["name"]
        names.add(name)
        deps = {list(d.values())[0][0] for d in target["dependencies"]}
        if name not in documented:
            problems.append(f"{name}: not in the table")
            continue
        if deps - documented[name]:
            problems.append(f"{name}: imports {sorted(deps - documented[name])}, which the table does not list")
        if documented[name] - deps:
            problems.append(f"{name}: the table lists {sorted(documented[name] - deps)}, which Package.swift does not import")
    for name in sorted(set(documented) - names):
        problems.append(f"{name}: in the table, not in Package.swift (mark it *planned*, or remove it)")
    for problem in problems:
        print("check-targets: " + problem)
    if problems:
        return 1
    print(f"check-targets: {len(names)} targets agree with {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
