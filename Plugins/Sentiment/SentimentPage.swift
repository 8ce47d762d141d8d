/// The seed's sentiment website: type a comment, see its label, browse every classified comment. Plain HTML, CSS
/// and JavaScript, no build step and nothing fetched from elsewhere.
enum SentimentPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Plumb sentiment</title>
        <style>
          :root { font-family: system-ui, sans-serif; color: #1d232a; background: #f4f6f8; }
          body { margin: 0; display: flex; justify-content: center; }
          main { width: min(760px, 100%); padding: 1rem; }
          h1 { font-size: 1.3rem; margin: .2rem 0 1rem; }
          form { display: flex; gap: .5rem; margin-bottom: 1rem; }
          textarea { flex: 1; min-height: 3.5rem; padding: .5rem .6rem; border: 1px solid #c4ccd4; border-radius: 6px; font: inherit; }
          button { padding: .5rem .9rem; border: 0; border-radius: 6px; background: #2557a7; color: #fff; font-size: 1rem; cursor: pointer; }
          #result { min-height: 2.2rem; margin-bottom: 1rem; font-size: 1.05rem; }
          .badge { display: inline-block; padding: .15rem .6rem; border-radius: 12px; color: #fff; font-weight: 600; }
          .Positive { background: #2e9e5b; } .Negative { background: #c93c3c; } .Neutral { background: #8a96a3; }
          table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #dde3e9; border-radius: 8px; }
          th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #eef1f4; vertical-align: top; }
          th { font-size: .85rem; color: #58636e; }
          td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
          #more { margin-top: .6rem; background: #58636e; }
          .error { color: #b02a2a; }
        </style>
        </head>
        <body>
        <main>
          <h1>Comment sentiment</h1>
          <form id="comment">
            <textarea id="content" placeholder="Write a comment…" maxlength="10000" required></textarea>
            <button>Classify</button>
          </form>
          <div id="result" aria-live="polite"></div>
          <table>
            <thead><tr><th>#</th><th>Comment</th><th>Label</th><th>Score</th></tr></thead>
            <tbody id="rows"></tbody>
          </table>
          <button id="more" hidden>Load more</button>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
        let next = 0;

        function badge(label) {
          const span = document.createElement("span");
          span.className = "badge " + label;
          span.textContent = label;
          return span;
        }

        function addRow(item, atTop) {
          const tr = document.createElement("tr");
          const cells = [String(item.id), item.content, null, item.score.toFixed(4)];
          cells.forEach((text, i) => {
            const td = document.createElement("td");
            if (i === 2) td.appendChild(badge(item.label)); else td.textContent = text;
            if (i === 0 || i === 3) td.className = "num";
            tr.appendChild(td);
          });
          const rows = $("rows");
          if (atTop) rows.insertBefore(tr, rows.firstChild); else rows.appendChild(tr);
        }

        async function loadPage() {
          const response = await fetch(base + "comments?limit=20&after=" + next);
          if (!response.ok) return;
          const page = await response.json();
          page.items.forEach((item) => addRow(item, false));
          next = page.next || 0;
          $("more").hidden = !page.next;
        }

        $("comment").addEventListener("submit", async (event) => {
          event.preventDefault();
          const content = $("content").value.trim();
          if (!content) return;
          const response = await fetch(base + "comments", {
            method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }),
          });
          const body = await response.json();
          const result = $("result");
          result.textContent = "";
          if (!response.ok) {
            result.className = "error";
            result.textContent = body.error ? body.error.message : "failed (" + response.status + ")";
            return;
          }
          result.className = "";
          result.appendChild(badge(body.label));
          result.appendChild(document.createTextNode(" score " + body.score.toFixed(4) + " — “" + body.content + "”"));
          addRow(body, true);
          $("content").value = "";
        });

        $("more").addEventListener("click", loadPage);
        loadPage();
        </script>
        </body>
        </html>
        """#
}
