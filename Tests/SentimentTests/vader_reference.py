#!/usr/bin/env python3
"""Scores real sentences with the reference vaderSentiment package, for SentimentTests.

Sentences come from Debian's fortune cookie files (/usr/share/games/fortunes): quotations and jokes written
by people, not for this test. Prints one JSON object per line: {"text": ..., "compound": ...}.
"""
import json
import os
import re
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FORTUNES = "/usr/share/games/fortunes"
LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 3000

sentences = []
seen = set()
for name in sorted(os.listdir(FORTUNES)):
    path = os.path.join(FORTUNES, name)
    if "." in name or not os.path.isfile(path):
        continue
    with open(path, encoding="utf-8", errors="replace") as f:
        entries = f.read().split("\n%\n")
    for entry in entries:
        text = " ".join(entry.split())
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if len(sentence.split()) >= 3 and sentence not in seen:
                seen.add(sentence)
                sentences.append(sentence)

analyzer = SentimentIntensityAnalyzer()
for sentence in sentences[:LIMIT]:
    print(json.dumps({"text": sentence, "compound": analyzer.polarity_scores(sentence)["compound"]}))
