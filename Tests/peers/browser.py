#!/usr/bin/env python3
"""Drives a page in headless Chromium over the DevTools protocol, like a user: fills the form, clicks, waits for
the answer to appear, and saves a screenshot.

    browser.py --base http://127.0.0.1:9400 --page chat --out chat.png
    browser.py --base http://127.0.0.1:9400 --page sentiment --out sentiment.png

Prints one JSON object with what the page showed. Needs Debian's `chromium` and the `websockets` package.
"""
import argparse
import asyncio
import base64
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import websockets

SCENARIOS = {
    "chat": {
        "path": "/apps/chat/",
        "steps": [
            'document.getElementById("user").value = "browser"; document.getElementById("room").value = "web";'
            ' document.getElementById("join").requestSubmit(); true',
        ],
        "wait_for": 'document.getElementById("status").textContent.startsWith("Connected")',
        "then": [
            'document.getElementById("text").value = "What a lovely, happy day!";'
            ' document.getElementById("send").requestSubmit(); true',
        ],
        "result": '(() => { const m = [...document.querySelectorAll(".msg")].find(e => e.textContent.includes("What a lovely, happy day!"));'
                  ' return m && m.querySelector(".sent") ? {className: m.className, badge: m.querySelector(".sent").textContent} : null; })()',
    },
    "sentiment": {
        "path": "/apps/sentiment/",
        "steps": [],
        "wait_for": "true",
        "then": [
            'document.getElementById("content").value = "This product is terrible and I am very disappointed.";'
            ' document.getElementById("comment").requestSubmit(); true',
        ],
        "result": '(() => { const b = document.querySelector("#result .badge"); const row = document.querySelector("#rows tr");'
                  ' return b && row ? {badge: b.textContent, result: document.getElementById("result").textContent, firstRow: row.textContent} : null; })()',
    },
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method, **params):
        id = next(self.ids)
        await self.ws.send(json.dumps({"id": id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the page never showed: {expression}")


async def run(args, scenario):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="plumb-chromium-")
    process = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--remote-debugging-port={port}",
         f"--user-data-dir={profile}", "--window-size=1000,800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    targets = [t for t in json.loads(response.read()) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not targets:
            raise SystemExit("chromium did not start its DevTools endpoint")
        async with websockets.connect(targets[0]["webSocketDebuggerUrl"], max_size=None) as ws:
            page = Page(ws)
            await page.call("Page.enable")
            await page.call("Runtime.enable")
            await page.call("Page.navigate", url=args.base + scenario["path"])
            await page.until('document.readyState === "complete"')
            for step in scenario["steps"]:
                await page.evaluate(step)
            await page.until(scenario["wait_for"])
            for step in scenario["then"]:
                await page.evaluate(step)
            shown = await page.until(scenario["result"])
            await asyncio.sleep(0.2)
            shot = await page.call("Page.captureScreenshot", format="png")
            with open(args.out, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            return {"shown": shown, "screenshot": args.out}
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="http://HOST:PORT of a running plumb serve")
    parser.add_argument("--page", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--out", required=True, help="PNG file for the screenshot")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args, SCENARIOS[args.page]))))


main()
