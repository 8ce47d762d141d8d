/// The chat page: plain HTML, CSS and JavaScript, no build step and nothing fetched from elsewhere.
enum ChatPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Plumb chat</title>
        <style>
          :root { font-family: system-ui, sans-serif; color: #1d232a; background: #f4f6f8; }
          body { margin: 0; display: flex; justify-content: center; }
          main { width: min(760px, 100%); padding: 1rem; }
          h1 { font-size: 1.3rem; margin: .2rem 0 1rem; }
          form { display: flex; gap: .5rem; margin-bottom: .8rem; flex-wrap: wrap; }
          input { padding: .5rem .6rem; border: 1px solid #c4ccd4; border-radius: 6px; font-size: 1rem; }
          input.grow { flex: 1; min-width: 12rem; }
          button { padding: .5rem .9rem; border: 0; border-radius: 6px; background: #2557a7; color: #fff; font-size: 1rem; cursor: pointer; }
          button:disabled { background: #9aa7b5; cursor: default; }
          #status { font-size: .9rem; color: #58636e; margin-bottom: .5rem; }
          #log { background: #fff; border: 1px solid #dde3e9; border-radius: 8px; height: 60vh; overflow-y: auto; padding: .6rem; }
          .msg { padding: .35rem .5rem; margin: .25rem 0; border-left: 4px solid #c4ccd4; border-radius: 4px; background: #fafbfc; }
          .msg .who { font-weight: 600; margin-right: .4rem; }
          .msg .sent { float: right; font-size: .8rem; padding: 0 .4rem; border-radius: 10px; color: #fff; }
          .Positive { border-left-color: #2e9e5b; } .Positive .sent { background: #2e9e5b; }
          .Negative { border-left-color: #c93c3c; } .Negative .sent { background: #c93c3c; }
          .Neutral { border-left-color: #8a96a3; } .Neutral .sent { background: #8a96a3; }
          .bot { background: #eef4ff; }
          .note { color: #58636e; font-size: .85rem; font-style: italic; margin: .2rem 0; }
          .error { color: #b02a2a; }
        </style>
        </head>
        <body>
        <main>
          <h1>Plumb chat</h1>
          <form id="join">
            <input id="user" placeholder="your name" maxlength="32" required>
            <input id="room" placeholder="room" value="lobby" maxlength="64" required>
            <button id="joinButton">Join</button>
          </form>
          <div id="status">Not connected. Start a message with <b>@support</b> to ask the support bot.</div>
          <div id="log" aria-live="polite"></div>
          <form id="send">
            <input id="text" class="grow" placeholder="message" maxlength="2000" disabled>
            <button id="sendButton" disabled>Send</button>
          </form>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        const log = $("log");
        const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
        let socket = null;

        function line(className, build) {
          const div = document.createElement("div");
          div.className = className;
          build(div);
          log.appendChild(div);
          log.scrollTop = log.scrollHeight;
        }

        function showMessage(m) {
          const label = m.sentiment ? m.sentiment.label : "";
          line("msg " + label + (m.user === "support" ? " bot" : ""), (div) => {
            const who = document.createElement("span");
            who.className = "who";
            who.textContent = m.user;
            div.appendChild(who);
            div.appendChild(document.createTextNode(m.text));
            if (m.sentiment) {
              const s = document.createElement("span");
              s.className = "sent";
              s.textContent = m.sentiment.label + " " + m.sentiment.score.toFixed(2);
              div.appendChild(s);
            }
          });
        }

        function note(text, className) {
          line("note " + (className || ""), (div) => { div.textContent = text; });
        }

        async function loadHistory(room) {
          const response = await fetch(base + "rooms/" + encodeURIComponent(room) + "/messages?limit=50");
          if (!response.ok) return;
          const page = await response.json();
          page.items.forEach(showMessage);
        }

        $("join").addEventListener("submit", async (event) => {
          event.preventDefault();
          if (socket) socket.close();
          log.textContent = "";
          const user = $("user").value.trim(), room = $("room").value.trim();
          await loadHistory(room);
          const scheme = location.protocol === "https:" ? "wss:" : "ws:";
          socket = new WebSocket(scheme + "//" + location.host + base + "ws?room=" + encodeURIComponent(room) + "&user=" + encodeURIComponent(user));
          socket.onopen = () => {
            $("status").textContent = "Connected to " + room + " as " + user + ".";
            $("text").disabled = false; $("sendButton").disabled = false; $("text").focus();
          };
          socket.onmessage = (event) => {
            const frame = JSON.parse(event.data);
            if (frame.type === "message") showMessage(frame);
            else if (frame.type === "presence") note(frame.user + (frame.event === "join" ? " joined" : " left"));
            else if (frame.type === "error") note(frame.message, "error");
          };
          socket.onclose = (event) => {
            $("status").textContent = "Disconnected" + (event.reason ? ": " + event.reason : "") + " (" + event.code + ").";
            $("text").disabled = true; $("sendButton").disabled = true;
          };
        });

        $("send").addEventListener("submit", (event) => {
          event.preventDefault();
          const text = $("text").value.trim();
          if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
          socket.send(JSON.stringify({ action: "send", text }));
          $("text").value = "";
        });

        const params = new URLSearchParams(location.search);
        if (params.get("user")) {
          $("user").value = params.get("user");
          if (params.get("room")) $("room").value = params.get("room");
          $("join").requestSubmit();
        }
        </script>
        </body>
        </html>
        """#
}
