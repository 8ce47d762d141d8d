#!/usr/bin/env python3
"""Lists Swift functions, initialisers and closures-as-properties longer than N lines (default 60).

Usage: python3 scripts/long-functions.py [--max 60] [PATH ...]   (default: Sources Plugins)
Counts lines from the declaration to its closing brace (comments and blank lines included), as a reader sees them.
"""
import argparse
import os
import re

DECL = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|static|class|final|override|mutating|nonisolated|convenience|required|@MainActor)\s+)*(func\s+[\w`]+|init[?!]?|deinit|subscript)\b')


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        m = DECL.match(lines[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split("//")[0])
            for c in code:
                if c == "{":
                    depth += 1
                    started = True
                elif c == "}":
                    depth -= 1
            if started and depth <= 0:
                break
            if not started and j > i + 8:
                break  # a protocol requirement: no body
            j += 1
        if started:
            yield m.group(1), i + 1, j - i + 1
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=60)
    parser.add_argument("paths", nargs="*", default=["Sources", "Plugins"])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        for directory, _, files in os.walk(root):
            for name in files:
                if name.endswith(".swift"):
                    path = os.path.join(directory, name)
                    found += [(n, path, line, what) for what, line, n in functions(path) if n > args.max]
    for n, path, line, what in sorted(found, reverse=True):
        print(f"{n:5d}  {path}:{line}  {what}")
    print(f"{len(found)} functions over {args.max} lines")


main()
