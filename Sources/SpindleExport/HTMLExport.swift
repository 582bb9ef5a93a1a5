import SpindleCodec

/// One self-contained HTML file (no external assets): a zoomable waterfall per trace and a details
/// panel for the selected span. The trace data is embedded as the tree JSON.
public enum HTMLExport {
    public static func encode(_ documents: [TraceDocument]) -> [UInt8] {
        var data = JSONWriter(capacity: 64 * 1024)
        data.raw("[")
        for (index, document) in documents.enumerated() {
            if index > 0 { data.raw(",") }
            document.writeTreeJSON(into: &data)
        }
        data.raw("]")
        // Inside <script>, "</" could close the element; "<\/" means the same in JSON.
        var embedded: [UInt8] = []
        embedded.reserveCapacity(data.bytes.count)
        for (index, byte) in data.bytes.enumerated() {
            embedded.append(byte)
            if byte == UInt8(ascii: "<"), index + 1 < data.bytes.count, data.bytes[index + 1] == UInt8(ascii: "/") {
                embedded.append(UInt8(ascii: "\\"))
            }
        }
        let title = documents.count == 1 ? "Spindle trace \(documents[0].rootSpanID)" : "Spindle traces (\(documents.count))"
        var page = Array(pageHead.replacingOccurrences(of: "TITLE", with: title).utf8)
        page += embedded
        page += Array(pageTail.utf8)
        return page
    }

    static let pageHead = #"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>TITLE</title>
        <style>
        body{font:13px system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
        header{padding:10px 16px;background:#1d2330;color:#fff}
        header small{color:#aab;margin-left:8px}
        .trace{margin:12px 16px;background:#fff;border:1px solid #dde;border-radius:6px}
        .trace h2{font-size:14px;margin:0;padding:8px 12px;border-bottom:1px solid #eef}
        .controls{padding:6px 12px;border-bottom:1px solid #eef;color:#667}
        .controls button{margin-right:6px}
        .row{display:flex;align-items:center;height:22px;cursor:pointer;border-bottom:1px solid #f3f3f7}
        .row:hover{background:#f2f6ff}.row.selected{background:#e3ecff}
        .name{width:34%;min-width:220px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding-left:8px}
        .lane{position:relative;flex:1;height:14px;margin-right:8px}
        .bar{position:absolute;height:14px;border-radius:2px;background:#4d8fd6;min-width:2px}
        .bar.error{background:#d64d4d}
        .dur{width:80px;text-align:right;padding-right:8px;color:#667}
        .orphan .name{color:#b7791f}.orphan .name::after{content:" ⚠ missing parent"}
        #details{position:fixed;right:0;top:0;bottom:0;width:38%;background:#fff;border-left:1px solid #dde;
          overflow:auto;padding:12px;display:none;box-shadow:-4px 0 12px rgba(0,0,0,.06)}
        #details pre{white-space:pre-wrap;word-break:break-word;font-size:12px}
        </style></head><body>
        <header><b>Spindle</b><small>trace export: click a span for details; wheel over the bars zooms, drag pans</small></header>
        <main id="traces"></main>
        <aside id="details"><button onclick="this.parentNode.style.display='none'">close</button><pre id="detail-text"></pre></aside>
        <script id="spindle-data" type="application/json">
        """#

    static let pageTail = #"""
        </script>
        <script>
        "use strict";
        const documents = JSON.parse(document.getElementById("spindle-data").textContent);
        const fmt = ms => ms < 1 ? ms.toFixed(2) + " ms" : ms < 1000 ? ms.toFixed(1) + " ms" : (ms / 1000).toFixed(2) + " s";
        for (const doc of documents) {
          const byId = new Map(doc.spans.map(s => [s.span_id, s]));
          const start = Number(BigInt(doc.summary.start_time_unix_nano) / 1000n) / 1000;
          const total = Math.max(doc.summary.duration_ms, 0.001);
          const view = {from: 0, to: total};
          const section = document.createElement("section");
          section.className = "trace";
          section.innerHTML = `<h2></h2><div class="controls"><button>reset zoom</button><span class="range"></span></div><div class="rows"></div>`;
          // A trace that continues a remote parent has no root of its own: name it after its first top span.
          section.querySelector("h2").textContent = [
            doc.summary.root_name ?? (doc.tree.length ? doc.tree[0].name + " (no root span)" : "(no spans)"),
            doc.summary.root_service, `${doc.summary.span_count} spans`, fmt(doc.summary.duration_ms),
            `${doc.summary.error_count} errors`, `${doc.summary.orphan_count} orphans`, doc.root_span_id,
          ].filter(Boolean).join(" · ");
          const rows = section.querySelector(".rows");
          const bars = [];
          const stack = doc.tree.slice().reverse().map(node => [node, 0]);
          while (stack.length) {
            const [node, depth] = stack.pop();
            const span = byId.get(node.span_id);
            const row = document.createElement("div");
            row.className = "row" + (node.missing_parent ? " orphan" : "");
            row.dataset.spanId = node.span_id;
            const name = document.createElement("div");
            name.className = "name";
            name.style.paddingLeft = (8 + Math.min(depth, 40) * 14) + "px";
            name.textContent = node.name;
            const lane = document.createElement("div");
            lane.className = "lane";
            const bar = document.createElement("div");
            bar.className = "bar" + (node.status === "error" ? " error" : "");
            bar.title = `${node.name} ${fmt(node.duration_ms)}`;
            lane.appendChild(bar);
            const dur = document.createElement("div");
            dur.className = "dur";
            dur.textContent = fmt(node.duration_ms);
            row.append(name, lane, dur);
            rows.appendChild(row);
            bars.push({bar, offset: Number(BigInt(span.start_time_unix_nano) / 1000n) / 1000 - start, width: node.duration_ms});
            row.addEventListener("click", () => {
              document.querySelectorAll(".row.selected").forEach(r => r.classList.remove("selected"));
              row.classList.add("selected");
              document.getElementById("detail-text").textContent = JSON.stringify(span, null, 2);
              document.getElementById("details").style.display = "block";
            });
            for (let i = node.children.length - 1; i >= 0; i--) stack.push([node.children[i], depth + 1]);
          }
          const draw = () => {
            const span = view.to - view.from;
            for (const b of bars) {
              b.bar.style.left = ((b.offset - view.from) / span * 100) + "%";
              b.bar.style.width = Math.max(b.width / span * 100, 0.2) + "%";
            }
            section.querySelector(".range").textContent = `showing ${fmt(view.from)} – ${fmt(view.to)} of ${fmt(total)}`;
          };
          rows.addEventListener("wheel", event => {
            event.preventDefault();
            const lane = rows.querySelector(".lane").getBoundingClientRect();
            const at = view.from + (view.to - view.from) * Math.min(1, Math.max(0, (event.clientX - lane.left) / lane.width));
            const factor = event.deltaY < 0 ? 0.8 : 1.25;
            view.from = Math.max(0, at - (at - view.from) * factor);
            view.to = Math.min(total, at + (view.to - at) * factor);
            draw();
          }, {passive: false});
          let dragging = null;
          rows.addEventListener("mousedown", event => { dragging = event.clientX; });
          window.addEventListener("mouseup", () => { dragging = null; });
          window.addEventListener("mousemove", event => {
            if (dragging === null) return;
            const width = rows.querySelector(".lane").getBoundingClientRect().width;
            const shift = (dragging - event.clientX) / width * (view.to - view.from);
            const size = view.to - view.from;
            view.from = Math.min(Math.max(0, view.from + shift), total - size);
            view.to = view.from + size;
            dragging = event.clientX;
            draw();
          });
          section.querySelector("button").addEventListener("click", () => { view.from = 0; view.to = total; draw(); });
          document.getElementById("traces").appendChild(section);
          draw();
        }
        </script></body></html>
        """#
}
