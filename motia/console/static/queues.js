/* Queues view: per topic depth, lag, in flight and retries; dead letters with replay. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;
  const seconds = (v) => (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`);
  const dash = (v) => (v === null || v === undefined ? h("span.faint", { title: "not reported by this queue backend" }, "—") : String(v));

  async function replay(ids) {
    await C.api("/queues/replay", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ids ? { ids } : { all: true }),
    });
  }

  function render(el, data, refresh) {
    C.clear(el);
    if (!data.available) {
      el.appendChild(h("div.panel", { id: "queues-empty" }, C.empty("No queue backend", "This app runs without a queue service, so there are no topics to show.")));
      return;
    }
    const sum = (key) => data.topics.reduce((a, t) => a + (t[key] || 0), 0);
    el.appendChild(h("div.stat-row",
      h("div.stat", h("div.v", String(data.topics.length)), h("div.l", "topics")),
      h("div.stat", h("div.v", String(sum("depth"))), h("div.l", "waiting")),
      h("div.stat", h("div.v", seconds(Math.max(0, ...data.topics.map((t) => t.lag || 0)))), h("div.l", "longest wait")),
      h("div.stat", h("div.v", String(sum("in_flight"))), h("div.l", "in flight")),
      h("div.stat", h("div.v", String(sum("retries"))), h("div.l", "failed attempts (retried or buried)")),
      h("div.stat", h("div.v", String(data.dead_letters.length)), h("div.l", "dead letters"))));
    el.appendChild(h("section.panel", { id: "queue-topics" },
      h("div.panel-head", h("h2", "Topics"), h("span.muted", data.backend)),
      data.topics.length ? h("table.grid",
        h("thead", h("tr", ["topic", "subscribers", "depth", "lag", "in flight", "retries", "dead letters"].map((t) => h("th", t)))),
        h("tbody", data.topics.map((t) => h("tr", { "data-topic": t.topic },
          h("td.mono", t.topic), h("td", t.subscribers.length ? t.subscribers.join(", ") : h("span.faint", "no subscriber")),
          h("td.num", dash(t.depth)), h("td.num", t.lag === null || t.lag === undefined ? dash(t.lag) : seconds(t.lag)), h("td.num", dash(t.in_flight)), h("td.num", dash(t.retries)), h("td.num", String(t.dead_letters))))))
        : C.empty("No topics", "Steps with queue() triggers or enqueues show their topics here.")));
    const letters = data.dead_letters;
    el.appendChild(h("section.panel", { id: "dead-letters" },
      h("div.panel-head", h("h2", "Dead letters"), h("span.muted", String(letters.length)), h("div.grow"),
        letters.length ? h("button.btn.small", { onclick: async () => { await replay(null); refresh(); } }, "Replay all") : null),
      letters.length ? h("table.grid",
        h("thead", h("tr", ["message", "topic", "step", "attempts", "error", "failed", "data", ""].map((t) => h("th", t)))),
        h("tbody", letters.map((l) => h("tr", { "data-letter": l.id },
          h("td.mono", { title: l.id }, l.id.slice(0, 8)), h("td.mono", l.topic), h("td", l.step), h("td.num", String(l.attempts)),
          h("td", { style: "color:var(--err);max-width:280px" }, l.error), h("td.mono", C.clock(l.failed_at)),
          h("td", h("details", h("summary.muted", "data"), C.json(l.data))),
          h("td", h("button.btn.small", { onclick: async () => { await replay([l.id]); refresh(); } }, "Replay"))))))
        : h("div.empty", "No dead letters: every message was handled.")));
  }

  C.views.queues = {
    async mount(el) {
      const root = h("div.stack", { id: "queues" });
      el.appendChild(root);
      const refresh = async () => render(root, await C.api("/queues"), refresh);
      await refresh();
      const timer = setInterval(() => refresh().catch(() => {}), 2000);
      this.off = [() => clearInterval(timer)];
    },
    unmount() { for (const off of this.off || []) off(); },
  };
})();
