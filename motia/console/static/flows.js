/* Flows view: each flow as a diagram of its steps and the topics between them. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;
  const SVG = "http://www.w3.org/2000/svg";
  const W = 230, H = 66, GAP_X = 110, GAP_Y = 28, PAD = 16;
  const COLORS = { http: "#2563eb", queue: "#7c3aed", cron: "#c2410c", state: "#0f766e", stream: "#be185d", none: "#98a2b3" };

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const child of children) el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return el;
  }

  /* Columns by longest path from the flow's entry steps; rows in declaration order. */
  function layout(names, edges) {
    const layer = Object.fromEntries(names.map((n) => [n, 0]));
    for (let pass = 0; pass < names.length; pass++) {
      let changed = false;
      for (const e of edges) {
        if (e.source === e.target || !(e.source in layer) || !(e.target in layer)) continue;
        if (layer[e.target] < layer[e.source] + 1 && layer[e.source] + 1 < names.length) {
          layer[e.target] = layer[e.source] + 1;
          changed = true;
        }
      }
      if (!changed) break;
    }
    /* Rows: senders first in the first column, then each column by its senders' rows. */
    const columns = [];
    for (const n of names) (columns[layer[n]] = columns[layer[n]] || []).push(n);
    const row = {};
    const sends = (n) => edges.some((e) => e.source === n && e.target !== n);
    columns.forEach((column = [], col) => {
      const key = (n) => {
        if (col === 0) return sends(n) ? 0 : 1;
        const from = edges.filter((e) => e.target === n && e.source in row).map((e) => row[e.source]);
        return from.length ? from.reduce((a, b) => a + b, 0) / from.length : Infinity;
      };
      column.map((n, i) => [key(n), i, n]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).forEach(([, , n], i) => { row[n] = i; });
    });
    const pos = {};
    for (const n of names) pos[n] = { x: PAD + layer[n] * (W + GAP_X), y: PAD + row[n] * (H + GAP_Y) };
    return pos;
  }

  function truncate(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

  function node(step, p, external, onSelect) {
    const kind = step ? step.kind : "none";
    const color = COLORS[kind] || COLORS.none;
    const label = step ? step.triggers.map(C.triggerLabel).join(", ") : "outside this flow";
    const name = step ? step.name : "?";
    const g = s("g", { class: "node" + (external ? " external" : ""), transform: `translate(${p.x},${p.y})`, "data-step": name });
    g.appendChild(s("rect", { class: "card", width: W, height: H, rx: 8 }));
    g.appendChild(s("rect", { class: "accent", width: 4, height: H - 16, x: 0, y: 8, rx: 2, fill: color }));
    const badge = kind.toUpperCase();
    const bw = badge.length * 6.6 + 12;
    g.appendChild(s("rect", { x: W - bw - 10, y: 10, width: bw, height: 16, rx: 8, fill: color, "fill-opacity": 0.12 }));
    g.appendChild(s("text", { class: "badge-text", x: W - bw / 2 - 10, y: 21.5, "text-anchor": "middle", fill: color }, badge));
    g.appendChild(s("text", { class: "title", x: 16, y: 24 }, truncate(name, 22)));
    g.appendChild(s("text", { class: "sub", x: 16, y: 47 }, truncate(label, 30)));
    const title = s("title", {}, `${name}\n${label}`);
    g.appendChild(title);
    g.addEventListener("click", () => onSelect(name));
    return g;
  }

  function edge(e, from, to) {
    const g = s("g", { class: "edge" + (e.virtual ? " virtual" : ""), "data-topic": e.topic, "data-source": e.source, "data-target": e.target });
    let d, lx, ly;
    if (to.x > from.x) {
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x - 2, y2 = to.y + H / 2;
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
      lx = mid; ly = (y1 + y2) / 2;
    } else {
      /* A back edge (or a loop) goes around below the cards. */
      const x1 = from.x + W / 2, y1 = from.y + H, x2 = to.x + W / 2 + (from === to ? 40 : 0), y2 = to.y + H + 2;
      const low = Math.max(y1, y2) + 40;
      d = `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
      lx = (x1 + x2) / 2; ly = low - 10;
    }
    g.appendChild(s("path", { d, "marker-end": "url(#arrow)" }));
    const text = e.label || e.topic;
    const tw = text.length * 6.7 + 14;
    g.appendChild(s("rect", { x: lx - tw / 2, y: ly - 10, width: tw, height: 20, rx: 10 }));
    g.appendChild(s("text", { x: lx, y: ly + 4, "text-anchor": "middle" }, text));
    g.appendChild(s("title", {}, `${e.source} → ${e.target}\ntopic: ${e.topic}${e.virtual ? " (virtual)" : ""}`));
    return g;
  }

  function diagram(flow, steps, onSelect) {
    const names = [...flow.steps];
    for (const e of flow.edges) for (const n of [e.source, e.target]) if (!names.includes(n)) names.push(n);
    const pos = layout(names, flow.edges);
    const width = Math.max(...names.map((n) => pos[n].x)) + W + PAD + 60;
    const height = Math.max(...names.map((n) => pos[n].y)) + H + PAD + (flow.edges.some((e) => pos[e.target].x <= pos[e.source].x) ? 60 : 0);
    const svg = s("svg", { class: "flow-svg", width, height, viewBox: `0 0 ${width} ${height}`, "data-flow": flow.name });
    svg.appendChild(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8b95a7" }))));
    for (const e of flow.edges) svg.appendChild(edge(e, pos[e.source], pos[e.target]));
    for (const n of names) svg.appendChild(node(steps[n], pos[n], !flow.steps.includes(n), onSelect));
    return svg;
  }

  function schemaBlock(title, schema) {
    if (!schema || (typeof schema === "object" && !Object.keys(schema).length)) return null;
    return [h("div.section-title", title), C.jsonBox(schema)];
  }

  function triggerCard(t) {
    const rows = [];
    const add = (k, v) => { if (v !== undefined && v !== null && v !== "") rows.push(h("dt", k), h("dd", h("code", String(v)))); };
    add("method", t.method); add("path", t.path); add("topic", t.topic); add("schedule", t.expression);
    add("stream", t.stream); add("group", t.group_id); add("item", t.item_id);
    if (t.conditional) add("condition", "yes");
    const responses = t.response_schema && Object.keys(t.response_schema).length ? t.response_schema : null;
    return h("div.trigger-card",
      h("h4", C.kindPill(t.type), C.triggerLabel(t)),
      rows.length ? h("dl.kv", rows) : null,
      t.config ? schemaBlock("Queue config", t.config) : null,
      schemaBlock("Body schema", t.body_schema),
      schemaBlock("Response schema", responses),
      schemaBlock("Input schema", t.input_schema));
  }

  function detail(step) {
    if (!step) return h("div.panel.detail", h("div.empty", h("strong", "Select a step"), "Click a step in a diagram to see its config, file and schemas."));
    const topics = (list) => list.length ? list.map((e) => h("code", e.label ? `${e.topic} (${e.label})` : e.topic)).flatMap((x, i) => i ? [", ", x] : [x]) : h("span.faint", "none");
    return h("div.panel.detail", { "data-detail": step.name },
      h("div.panel-head", C.kindPill(step.kind), h("h2", step.name)),
      h("div.panel-body",
        step.description ? h("p.muted", { style: "margin-top:0" }, step.description) : null,
        h("dl.kv",
          h("dt", "file"), h("dd", h("code", step.file || "defined in code")),
          h("dt", "flows"), h("dd", step.flows.length ? step.flows.join(", ") : h("span.faint", "default")),
          h("dt", "enqueues"), h("dd", topics(step.enqueues)),
          step.virtual_enqueues.length ? [h("dt", "virtual"), h("dd", topics(step.virtual_enqueues))] : null),
        h("div.section-title", "Triggers"),
        step.triggers.map(triggerCard),
        h("div.row", { style: "margin-top:12px" },
          h("a.btn.small", { href: "#logs/" + encodeURIComponent(step.name) }, "Logs of this step"),
          step.kind === "http" ? h("a.btn.small", { href: "#endpoints/" + encodeURIComponent(step.name) }, "Try it") : null)));
  }

  C.views.flows = {
    async mount(el, selected) {
      const data = await C.api("/flows");
      const side = h("div");
      const select = (name) => {
        for (const g of el.querySelectorAll(".node")) g.classList.toggle("selected", g.dataset.step === name);
        C.clear(side).appendChild(detail(data.steps[name]));
      };
      const legend = h("div.legend", ["http", "queue", "cron", "state", "stream"].map((k) => h("span", C.kindPill(k))),
        h("span", "→ topic"), h("span", "⇢ virtual"));
      const flows = data.flows.length ? data.flows.map((flow) => h("section.panel.flow", { "data-flow": flow.name },
        h("div.panel-head", h("h2", flow.name), h("span.muted", `${flow.steps.length} step${flow.steps.length === 1 ? "" : "s"}`),
          flow.edges.length ? h("span.muted", `· ${flow.edges.length} connection${flow.edges.length === 1 ? "" : "s"}`) : null),
        h("div.flow-canvas", diagram(flow, data.steps, select))))
        : [C.empty("No steps found", "Add a *.step.py file under steps/ and it shows up here.")];
      const errors = data.errors.length ? h("div.panel", { style: "border-color:#f5c2b8;margin-bottom:16px" },
        h("div.panel-head", h("h2", { style: "color:var(--err)" }, "Steps that failed to load")),
        h("div.panel-body", data.errors.map((e) => h("pre.mono", e)))) : null;
      el.appendChild(h("div.flows-layout",
        h("div", h("div.row", { style: "margin-bottom:12px" }, h("div.grow"), legend), errors, flows), side));
      select(selected && data.steps[selected] ? selected : null);
    },
  };
})();
