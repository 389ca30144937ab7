/* Endpoints view: send a request to any HTTP step and watch the answer arrive, frame by frame. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;
  const appBase = C.base.slice(0, -"/__motia/console".length);
  const CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"];

  function params(path) {
    return [...path.matchAll(/:([A-Za-z0-9_]+)|\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] || m[2]);
  }
  function fillPath(path, values) {
    return path.replace(/:([A-Za-z0-9_]+)|\{([A-Za-z0-9_]+)\}/g, (_, a, b) => encodeURIComponent(values[a || b] || ""));
  }

  /* Reads an SSE body as it streams; calls onFrame for each complete frame. */
  function sseParser(onFrame) {
    let buffer = "";
    return (text, flush) => {
      buffer += text;
      const parts = buffer.replace(/\r\n?/g, "\n").split("\n\n");
      buffer = flush ? "" : parts.pop();
      for (const block of parts) {
        if (!block.trim()) continue;
        const frame = { event: "message", data: [], id: null, comment: false };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) { frame.comment = true; continue; }
          const at = line.indexOf(":");
          const field = at < 0 ? line : line.slice(0, at);
          const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
          if (field === "event") frame.event = value;
          else if (field === "data") frame.data.push(value);
          else if (field === "id") frame.id = value;
        }
        if (frame.data.length || !frame.comment) onFrame({ ...frame, data: frame.data.join("\n") });
      }
    };
  }

  function parsed(text, compact) {
    try { return C.json(JSON.parse(text), compact); } catch (e) { return h("span.mono", text); }
  }

  function form(ep, out) {
    const names = params(ep.path);
    const values = {};
    const pathInputs = names.map((n) => h("div", h("label.lbl", `:${n}`),
      h("input.field", { "data-param": n, value: n === "name" ? "world" : "", placeholder: n, oninput: (e) => { values[n] = e.target.value; url.value = target(); } })));
    for (const n of names) values[n] = n === "name" ? "world" : "";
    const query = h("input.field", { placeholder: "a=1&b=2", oninput: () => { url.value = target(); } });
    const type = h("select.field", { id: "ep-content-type" }, CONTENT_TYPES.map((t) => h("option", { value: t }, t)));
    const hasBody = !["GET", "HEAD", "DELETE"].includes(ep.method);
    const example = ep.example === null || ep.example === undefined ? (ep.body_schema ? {} : "") : ep.example;
    const body = h("textarea.field", { id: "ep-body", rows: 8, spellcheck: "false" }, typeof example === "string" ? example : JSON.stringify(example, null, 2));
    type.onchange = () => { if (type.value !== "application/json" && body.value.trim().startsWith("{")) body.value = ""; };
    const url = h("input.field.url", { id: "ep-url", readonly: true });
    const target = () => appBase + fillPath(ep.path, values) + (query.value.trim() ? "?" + query.value.trim() : "");
    url.value = target();
    let controller = null;
    const send = h("button.btn.primary", { id: "ep-send", onclick: () => run() }, "Send request");
    const stop = h("button.btn", { disabled: true, onclick: () => controller && controller.abort() }, "Stop");

    async function run() {
      controller = new AbortController();
      send.disabled = true; stop.disabled = false;
      const started = performance.now();
      const init = { method: ep.method, signal: controller.signal, headers: {} };
      if (hasBody && body.value.trim()) { init.body = body.value; init.headers["content-type"] = type.value; }
      C.clear(out);
      const status = h("div.response-status", h("span.muted", "sending…"));
      const frames = h("div.frames", { id: "ep-frames" });
      const raw = h("div.json-box", { id: "ep-body-out" });
      out.appendChild(h("div.panel", h("div.panel-head", h("h3", "Response"), status), h("div.panel-body", { id: "ep-response" }, raw)));
      try {
        const response = await fetch(url.value, init);
        const firstByte = performance.now() - started;
        const kind = response.headers.get("content-type") || "";
        const trace = response.headers.get("x-trace-id");
        C.clear(status).append(
          h("span.code.c" + String(response.status)[0], String(response.status)), h("span.muted", response.statusText),
          h("span.muted", `headers after ${C.ms(firstByte)}`), h("span.mono.muted", kind),
          trace ? h("a", { href: "#", "data-trace": trace, onclick: (e) => { e.preventDefault(); C.showTrace(trace); } }, "trace " + trace.slice(0, 8)) : null,
          h("div.grow"), h("span.mono.muted", { id: "ep-elapsed" }));
        const elapsed = () => { status.querySelector("#ep-elapsed").textContent = C.ms(performance.now() - started); };
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let text = "";
        if (kind.startsWith("text/event-stream")) {
          raw.replaceWith(frames);
          let count = 0;
          const feed = sseParser((f) => {
            count += 1;
            const at = performance.now() - started;
            frames.appendChild(h("div.frame.fresh", { "data-event": f.event, "data-at": at.toFixed(1) },
              h("span.at", "+" + Math.round(at) + " ms"), h("span.ev", f.comment ? ": ping" : f.event), parsed(f.data, true)));
            elapsed();
          });
          for (;;) {
            const { value, done } = await reader.read();
            if (done) { feed(decoder.decode(), true); break; }
            feed(decoder.decode(value, { stream: true }), false);
          }
          frames.appendChild(h("div.frame", h("span.at", "+" + Math.round(performance.now() - started) + " ms"), h("span.ev.faint", "end"), h("span.faint", `stream closed after ${count} frame${count === 1 ? "" : "s"}`)));
        } else {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += decoder.decode(value, { stream: true });
          }
          C.clear(raw).appendChild(text ? parsed(text) : h("span.faint", "(empty body)"));
        }
        elapsed();
      } catch (error) {
        C.clear(status).appendChild(h("span", { style: "color:var(--err)" }, error.name === "AbortError" ? "stopped" : String(error)));
      } finally {
        send.disabled = false; stop.disabled = true;
      }
    }

    return h("div.panel", { "data-endpoint": `${ep.method} ${ep.path}` },
      h("div.panel-head", C.methodPill(ep.method), h("h2.mono", ep.path), h("span.muted", ep.step)),
      h("div.panel-body.stack",
        ep.description ? h("div.muted", ep.description) : null,
        h("div.request-line", C.methodPill(ep.method), url, send, stop),
        pathInputs.length ? h("div.form-grid", pathInputs) : null,
        h("div.form-grid", h("div", h("label.lbl", "Query string"), query), hasBody ? h("div", h("label.lbl", "Content type"), type) : h("div")),
        hasBody ? h("div", h("label.lbl", ep.body_schema ? "Body (example generated from the body schema)" : "Body"), body) : null,
        ep.body_schema ? h("details", h("summary.muted", "Body schema"), C.jsonBox(ep.body_schema)) : null));
  }

  C.views.endpoints = {
    async mount(el, selected) {
      el.classList.add("split");
      const endpoints = await C.api("/endpoints");
      const list = h("ul.list", { id: "endpoint-list" });
      const main = h("div.stack");
      const out = h("div", { id: "ep-out" });
      const show = (ep) => {
        for (const li of list.children) li.classList.toggle("active", li.dataset.key === `${ep.method} ${ep.path}`);
        C.clear(main).append(form(ep, C.clear(out)), out);
      };
      for (const ep of endpoints) {
        list.appendChild(h("li", { "data-key": `${ep.method} ${ep.path}`, onclick: () => show(ep) }, C.methodPill(ep.method),
          h("div", { style: "min-width:0" }, h("div.ep-path", ep.path), h("div.ep-step", ep.step))));
      }
      el.appendChild(h("div.panel", h("div.panel-head", h("h2", "HTTP steps")), list));
      el.appendChild(main);
      if (!endpoints.length) { main.appendChild(h("div.panel", C.empty("No HTTP steps", "Steps with an http() trigger are listed here."))); return; }
      show(endpoints.find((e) => e.step === selected) || endpoints[0]);
    },
  };
})();
