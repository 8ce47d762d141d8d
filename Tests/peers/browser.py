#!/usr/bin/env python3
"""Drives a page in headless Chromium over the DevTools protocol, like a user: fills the form, clicks, waits for
the answer to appear, and saves a screenshot.

    browser.py --base http://127.0.0.1:9400 --page chat --out chat.png
    browser.py --base http://127.0.0.1:9400 --page sentiment --out sentiment.png
    browser.py --url 'http://127.0.0.1:9400/alarms/NAME?exp=…&sig=…' --page alarm-page --out alarm-page.png
    browser.py --url file:///tmp/mail.html --page alarm-mail --out alarm-mail.png

Prints one JSON object with what the page showed. Needs Debian's `chromium` and the `websockets` package.
"""
import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
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
    # The read-only alarm page of a signed link: the state, the chart's breach marks as the browser laid them out.
    "alarm-page": {
        "path": "",
        "steps": [],
        "wait_for": 'document.querySelector("svg circle") !== null',
        "then": [],
        "result": '(() => { const svg = document.querySelector("svg"); const box = svg.getBoundingClientRect();'
                  ' return {state: document.querySelector(".state").textContent, title: document.title,'
                  ' breaches: svg.querySelectorAll(\'circle[fill="#c0392b"]\').length, points: svg.querySelectorAll("circle").length,'
                  ' chartWidth: svg.clientWidth, chartHeight: svg.clientHeight, historyRows: document.querySelectorAll(".history tr").length - 1,'
                  ' text: document.body.innerText}; })()',
        "full_page": True,
    },
    # An alarm mail's HTML as mail_inspect.py wrote it (cid: images inlined): the chart must decode and show.
    "alarm-mail": {
        "path": "",
        "steps": [],
        "wait_for": '(() => { const i = document.querySelector("img"); return i && i.complete && i.naturalWidth > 0; })()',
        "then": [],
        "result": '(() => { const i = document.querySelector("img"); const box = i.getBoundingClientRect();'
                  ' return {naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, shownWidth: i.clientWidth, shownHeight: i.clientHeight,'
                  ' heading: document.querySelector("h2").textContent, text: document.body.innerText}; })()',
        "full_page": True,
    },
}


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
    profile = tempfile.mkdtemp(prefix="plumb-chromium-")
    log_path = profile + ".log"
    log = open(log_path, "wb")
    # Port 0: Chromium picks a free port and writes it to DevToolsActivePort in the profile, so no port can be taken
    # between choosing and binding. Its output goes to a file that is shown when it does not come up.
    process = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1000,800",
         "about:blank"],
        stdout=log, stderr=log)
    try:
        targets = None
        # A cold start on a loaded 2-core CI machine has taken more than 10 s: wait up to 60 s, and stop at once
        # if Chromium exits.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not targets:
            if process.poll() is not None:
                break
            try:
                with open(f"{profile}/DevToolsActivePort") as f:
                    port = int(f.readline().strip())
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    targets = [t for t in json.loads(response.read()) if t.get("type") == "page"]
            except (OSError, ValueError):
                pass
            if not targets:
                time.sleep(0.1)
        if not targets:
            log.flush()
            with open(log_path, "rb") as f:
                said = f.read()[-3000:].decode("utf-8", "replace")
            state = f"exited with {process.returncode}" if process.poll() is not None else "still running after 60 s"
            raise SystemExit(f"chromium did not start its DevTools endpoint ({state}); it printed:\n{said}")
        async with websockets.connect(targets[0]["webSocketDebuggerUrl"], max_size=None) as ws:
            page = Page(ws)
            await page.call("Page.enable")
            await page.call("Runtime.enable")
            await page.call("Page.navigate", url=args.url or (args.base + scenario["path"]))
            await page.until('document.readyState === "complete"')
            for step in scenario["steps"]:
                await page.evaluate(step)
            await page.until(scenario["wait_for"])
            for step in scenario["then"]:
                await page.evaluate(step)
            shown = await page.until(scenario["result"])
            await asyncio.sleep(0.2)
            if scenario.get("full_page"):
                # The whole page, not only the 1000 × 800 window.
                size = (await page.call("Page.getLayoutMetrics"))["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": min(size["width"], 1000), "height": min(size["height"], 4000), "scale": 1}
                shot = await page.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
            else:
                shot = await page.call("Page.captureScreenshot", format="png")
            with open(args.out, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            return {"shown": shown, "screenshot": args.out}
    finally:
        process.kill()
        process.wait()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)
        try:
            os.remove(log_path)
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="http://HOST:PORT of a running plumb serve")
    parser.add_argument("--url", help="the whole address to open instead of BASE + the scenario's path")
    parser.add_argument("--page", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--out", required=True, help="PNG file for the screenshot")
    args = parser.parse_args()
    if not args.base and not args.url:
        parser.error("--base or --url is required")
    print(json.dumps(asyncio.run(run(args, SCENARIOS[args.page]))))


main()
