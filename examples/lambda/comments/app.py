"""The sentiment seed's comment API as two Lambda handlers behind API Gateway's proxy integration (payload 1.0).

    create_comment  POST /comments  {"content": "..."}  -> 201, the comment scored by VADER and stored
    list_comments   GET  /comments?limit=20&after=ID    -> {"items": [...], "next": ID or null}

Plain Lambda code: nothing here knows about Plumb. The store is SQLite at COMMENTS_DB, which the configuration
points at a file both functions share (on AWS it would be a table; the handlers would change only in `store`).
"""
import json
import os
import sqlite3
from datetime import datetime, timezone

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Init, once per instance (the cold start): the lexicon and the database.
ANALYZER = SentimentIntensityAnalyzer()
MAX_TEXT = 10_000
DATABASE = os.environ.get("COMMENTS_DB", "/tmp/comments.sqlite")


def connect():
    db = sqlite3.connect(DATABASE, timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("""CREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY AUTOINCREMENT, content TEXT NOT NULL,
                  label TEXT NOT NULL, score REAL NOT NULL, pos REAL NOT NULL, neu REAL NOT NULL, neg REAL NOT NULL,
                  created_at TEXT NOT NULL)""")
    return db


STORE = connect()


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def problem(status, code, message):
    return answer(status, {"error": code, "message": message})


def label(compound):
    if compound >= 0.05:
        return "Positive"
    if compound <= -0.05:
        return "Negative"
    return "Neutral"


def create_comment(event, context):
    try:
        content = json.loads(event.get("body") or "null")["content"]
    except (ValueError, TypeError, KeyError):
        return problem(400, "BadRequest", "the body must be JSON with a 'content' string")
    if not isinstance(content, str) or not content.strip():
        return problem(400, "BadRequest", "'content' must be a non-empty string")
    if len(content) > MAX_TEXT:
        return problem(413, "RequestEntityTooLarge", f"'content' is longer than {MAX_TEXT} characters")
    scores = ANALYZER.polarity_scores(content)
    created = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    comment = {"content": content, "label": label(scores["compound"]), "score": scores["compound"],
               "scores": {"pos": scores["pos"], "neu": scores["neu"], "neg": scores["neg"]}, "created_at": created}
    cursor = STORE.execute(
        "INSERT INTO comments (content, label, score, pos, neu, neg, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (content, comment["label"], scores["compound"], scores["pos"], scores["neu"], scores["neg"], created))
    comment["id"] = cursor.lastrowid
    print(f"comment {comment['id']}: {comment['label']} ({comment['score']})")
    return answer(201, comment)


def list_comments(event, context):
    query = event.get("queryStringParameters") or {}
    try:
        limit = int(query.get("limit", "20"))
        after = int(query.get("after", "0"))
    except ValueError:
        return problem(400, "BadRequest", "'limit' and 'after' must be integers")
    if not 1 <= limit <= 100 or after < 0:
        return problem(400, "BadRequest", "'limit' must be from 1 to 100 and 'after' a comment id")
    rows = STORE.execute("SELECT id, content, label, score, pos, neu, neg, created_at FROM comments WHERE id > ? "
                         "ORDER BY id LIMIT ?", (after, limit + 1)).fetchall()
    items = [{"id": r[0], "content": r[1], "label": r[2], "score": r[3],
              "scores": {"pos": r[4], "neu": r[5], "neg": r[6]}, "created_at": r[7]} for r in rows[:limit]]
    return answer(200, {"items": items, "next": items[-1]["id"] if len(rows) > limit else None})
