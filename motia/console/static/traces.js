/* Traces view: recent traces, and one trace as a waterfall of its OpenTelemetry spans. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;

  /* Spans in tree order: each after its parent, with its depth; orphans at the root. */
  function tree(spans) {
    const ids = new Set(spans.map((s) => s.span_id));
    const children = new Map();
    for (const span of spans) {
      const parent = ids.has(span.parent_id) ? span.parent_id : null;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(span);
    }
    const rows = [];
    const walk = (parent, depth) => {
      for (const span of (children.get(parent) || []).sort((a, b) => a.start - b.start)) {
        rows.push({ span, depth });
        walk(span.span_id, depth + 1);
      }
    };
    walk(null, 0);
    return rows;
  }

  function spanKind(span) {
    const trigger = span.attributes["motia.trigger.type"];
    if (trigger) return trigger;
    if (span.name.startsWith("state::")) return "state";
    if (span.name.startsWith("stream::")) return "stream";
    if (span.name === "enqueue") return "queue";
    return "http";
  }

  function logsOf(span) {
    return (C.state.logs || []).filter((entry) => entry.span_id === span.span_id);
  }

  function detail(span) {
    const logs = logsOf(span);
    return h("div.span-detail",
      span.error ? h("div.error", span.error) : null,
      C.jsonBox(span.attributes),
      h("div.section-title", `Log lines (${logs.length})`),
      logs.length ? logs.map((entry) => h("div.span-log", { "data-span": span.span_id },
        h("span.time", C.clock(entry.time)), " ", h("span.pill.lvl-" + entry.level, entry.level.toUpperCase()),
        " ", entry.msg)) : h("div.faint", "No log line was written in this span."));
  }

  function waterfall(body, trace) {
    C.clear(body);
    const spans = trace.spans;
    if (!spans.length) {
      body.appendChild(C.empty("No spans for this trace", "Spans appear here when the app traces (see the deployment guide)."));
      return;
    }
    const start = Math.min(...spans.map((s) => s.start));
    const end = Math.max(...spans.map((s) => s.end));
    const total = Math.max(end - start, 1e-6);
    body.appendChild(h("div.row.muted", { style: "margin-bottom:10px" },
      `${spans.length} span${spans.length === 1 ? "" : "s"} · ${C.ms(total * 1000)} end to end`));
    for (const { span, depth } of tree(spans)) {
      const left = ((span.start - start) / total) * 100;
      const width = Math.max(0.5, ((span.end - span.start) / total) * 100);
      const open = h("div.span-open", { hidden: true });
      const row = h("div.span-row", { "data-span": span.span_id, "data-status": span.status, "data-depth": depth },
        h("div.span-name", { style: `padding-left:${depth * 16}px`, title: span.name },
          h("span.pill.kind-" + spanKind(span), spanKind(span).toUpperCase()), " ", span.name,
          logsOf(span).length ? h("span.faint", ` · ${logsOf(span).length} log`) : null),
        h("div.span-track", h("span.span-bar" + (span.status === "error" ? ".error" : ""), { style: `left:${left}%;width:${Math.min(width, 100 - left)}%` })),
        h("div.span-time.mono", C.ms((span.end - span.start) * 1000)));
      row.addEventListener("click", () => {
        open.hidden = !open.hidden;
        if (!open.hidden) C.append(C.clear(open), [detail(span)]);
      });
      body.appendChild(row);
      body.appendChild(open);
    }
  }

  function traceList(list, traces, selected) {
    C.clear(list);
    if (!traces.length) {
      list.appendChild(C.empty("No traces yet", "Send a request: each trace the app records appears here."));
      return;
    }
    for (const t of traces) {
      list.appendChild(h("a.trace-item" + (t.trace_id === selected ? ".active" : ""),
        { href: "#traces/" + t.trace_id, "data-trace": t.trace_id },
        h("div.row", h("strong", t.root), h("div.grow"), t.errors ? h("span.pill.st-error", "error") : null),
        h("div.row.faint", h("code", t.trace_id.slice(0, 8)), " · ", `${t.spans} spans`, " · ", C.ms(t.duration_ms), " · ", C.clock(t.start))));
    }
  }

  C.views.traces = {
    mount(el, traceId) {
      el.classList.add("split");
      const list = h("div.panel.trace-list");
      const body = h("div.panel-body", { id: "waterfall" });
      el.appendChild(list);
      el.appendChild(h("div.panel", h("div.panel-head", h("h2", "Waterfall"), traceId ? h("code.muted", traceId) : null), body));
      let pending = null;
      const refresh = () => {
        if (pending) return;
        pending = setTimeout(async () => {
          pending = null;
          traceList(list, await C.api("/spans"), traceId);
          if (traceId) waterfall(body, await C.api("/spans/" + encodeURIComponent(traceId)));
        }, 150);
      };
      if (!traceId) body.appendChild(C.empty("Pick a trace", "Or follow a log line's trace link."));
      refresh();
      this.off = [C.on("run", refresh), C.on("log", refresh)];
    },
    unmount() {
      (this.off || []).forEach((off) => off());
      this.off = null;
    },
  };
})();
