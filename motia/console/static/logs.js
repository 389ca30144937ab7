/* Logs view: every line as it happens, filters, and the trace drawer (a request's path). */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;
  const LEVELS = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };
  const RENDER_LIMIT = 1500;

  function traceLink(traceId) {
    if (!traceId) return h("span.faint", "—");
    return h("a.trace", { href: "#", title: traceId, "data-trace": traceId, onclick: (e) => { e.preventDefault(); C.showTrace(traceId); } }, traceId.slice(0, 8));
  }

  function logRow(entry, fresh) {
    const data = entry.data !== undefined ? h("span.data", JSON.stringify(entry.data)) : null;
    return h("div.log-row" + (fresh ? ".fresh" : ""), { "data-level": entry.level, "data-step": entry.step || "" },
      h("span.time", C.clock(entry.time)),
      h("span", h("span.pill.lvl-" + entry.level, entry.level.toUpperCase())),
      h("span.step", { title: entry.step || entry.logger }, entry.step || h("span.faint", entry.logger)),
      h("span.trace-cell", traceLink(entry.trace_id)),
      h("span.msg", entry.msg, data),
      entry.exc ? h("pre.exc", entry.exc) : null);
  }

  C.views.logs = {
    followsFeeds: true,
    mount(el, stepFilter) {
      el.classList.add("fill");
      const filters = { step: stepFilter || "", level: "debug", trace: "", cron: false };
      const list = h("div.log-list", { id: "log-list" });
      const counter = h("span.counter", { id: "log-counter" });
      const stepSelect = h("select.field", { id: "log-step", onchange: () => { filters.step = stepSelect.value; render(); } });
      const levelSelect = h("select.field", { id: "log-level", onchange: () => { filters.level = levelSelect.value; render(); } },
        Object.keys(LEVELS).slice(0, 4).map((l) => h("option", { value: l }, l === "debug" ? "all levels" : `${l} and above`)));
      const traceInput = h("input.field", { id: "log-trace", placeholder: "trace id", size: 22, oninput: () => { filters.trace = traceInput.value.trim(); render(); } });
      const cronBox = h("input", { type: "checkbox", id: "log-cron", onchange: () => { filters.cron = cronBox.checked; render(); } });
      const cronToggle = h("label.check", { title: "Info and debug lines of cron steps; their warnings and errors always show" }, cronBox, "cron lines");
      const steps = new Set();
      const cronSteps = new Set();

      /* A cron step's routine lines repeat every tick: hidden unless asked for (or its step is). */
      const routineCron = (e) => cronSteps.has(e.step) && (LEVELS[e.level] || 0) < LEVELS.warning
        && !filters.cron && filters.step !== e.step;
      const matches = (e) => (!filters.step || e.step === filters.step)
        && (LEVELS[e.level] || 0) >= LEVELS[filters.level]
        && (!filters.trace || (e.trace_id || "").startsWith(filters.trace));
      const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      const refreshSteps = () => {
        const names = [...steps].sort();
        C.clear(stepSelect).appendChild(h("option", { value: "" }, "all steps"));
        for (const n of names) stepSelect.appendChild(h("option", { value: n }, n));
        stepSelect.value = filters.step;
      };
      const noteStep = (e) => { if (e.step && !steps.has(e.step)) { steps.add(e.step); refreshSteps(); } };
      const count = () => {
        const rows = list.querySelectorAll(".log-row").length;
        const hidden = C.state.logs.filter((e) => matches(e) && routineCron(e)).length;
        counter.textContent = `${rows} of ${C.state.logs.length} lines` + (hidden ? ` · ${hidden} cron lines hidden` : "");
      };
      const placeholder = () => C.state.logs.length
        ? C.empty("No lines match the filters", "Change the step, level, trace or cron filters to see more.")
        : C.empty("No log lines yet", "Lines appear here the moment a step logs them.");
      function render() {
        C.clear(list);
        const shown = C.state.logs.filter((e) => matches(e) && !routineCron(e)).slice(-RENDER_LIMIT);
        for (const e of shown) list.appendChild(logRow(e, false));
        if (!shown.length) list.appendChild(placeholder());
        list.scrollTop = list.scrollHeight;
        count();
      }
      C.api("/flows").then((data) => {
        for (const [n, step] of Object.entries(data.steps)) {
          steps.add(n);
          if (step.triggers.length && step.triggers.every((t) => t.type === "cron")) cronSteps.add(n);
        }
        refreshSteps();
        render();
      }).catch(() => {});
      for (const e of C.state.logs) noteStep(e);
      refreshSteps();

      this.off = [
        C.on("log", (e) => {
          noteStep(e);
          if (!matches(e) || routineCron(e)) return count();
          const stick = atBottom();
          const empty = list.querySelector(".empty");
          if (empty) empty.remove();
          list.appendChild(logRow(e, true));
          while (list.childElementCount > RENDER_LIMIT) list.firstChild.remove();
          if (stick) list.scrollTop = list.scrollHeight;
          count();
        }),
        C.on("logs-reset", render),
      ];
      el.appendChild(h("div.panel.logs-panel",
        h("div.toolbar", h("strong", "Live logs"), stepSelect, levelSelect, traceInput, cronToggle,
          h("button.btn.small", { onclick: () => { C.state.logs = []; render(); } }, "Clear"),
          h("div.grow"), counter),
        list));
      render();
    },
    unmount() { for (const off of this.off || []) off(); },
  };

  /* ---- trace drawer ---- */
  function runTrigger(run) {
    const t = run.trigger || {};
    return [C.kindPill(t.type), h("span.mono.muted", C.triggerLabel(t))];
  }

  function renderTrace(body, trace) {
    C.clear(body);
    const runs = trace.runs.slice().sort((a, b) => a.started - b.started);
    if (!runs.length && !trace.logs.length) {
      body.appendChild(C.empty("Nothing recorded for this trace", "Its runs may be older than what the console keeps."));
      return;
    }
    const start = Math.min(...runs.map((r) => r.started), ...trace.logs.map((l) => l.time));
    const end = Math.max(...runs.map((r) => r.started + (r.duration_ms || 0) / 1000), ...trace.logs.map((l) => l.time), start + 0.001);
    const span = end - start;
    const total = h("div.row", { style: "margin-bottom:12px" },
      h("span.muted", `${runs.length} step run${runs.length === 1 ? "" : "s"}`),
      h("span.muted", "·"), h("span.muted", `${C.ms(span * 1000)} end to end`));
    body.appendChild(total);
    body.appendChild(h("div.section-title", "Path through the steps"));
    for (const run of runs) {
      const left = ((run.started - start) / span) * 100;
      const width = run.duration_ms == null ? 100 - left : Math.max(0.6, (run.duration_ms / 1000 / span) * 100);
      body.appendChild(h("div.run", { "data-run": run.id, "data-status": run.status },
        h("div.run-head", h("span.name", run.step), runTrigger(run), h("div.grow"),
          h("span.pill.st-" + run.status, run.status), h("span.mono", C.ms(run.duration_ms))),
        h("div.run-bar", h("span" + (run.status === "error" ? ".error" : run.status === "running" ? ".running" : ""), { style: `left:${left}%;width:${Math.min(width, 100 - left)}%` })),
        h("div.row.faint", { style: "font-size:12px" }, `+${C.ms((run.started - start) * 1000)}`),
        run.result ? h("div.result", "→ ", run.result) : null,
        run.error ? h("div.error", run.error) : null));
    }
    body.appendChild(h("div.section-title", "Log lines"));
    const lines = h("div.panel", trace.logs.map((l) => logRow(l, false)));
    if (!trace.logs.length) lines.appendChild(h("div.empty", "No log lines for this trace."));
    body.appendChild(lines);
  }

  let drawerOff = null;
  C.closeDrawer = function closeDrawer() {
    const drawer = document.getElementById("drawer");
    drawer.hidden = true;
    if (drawerOff) { drawerOff.forEach((off) => off()); drawerOff = null; }
  };
  C.showTrace = async function showTrace(traceId) {
    C.closeDrawer();
    const drawer = C.clear(document.getElementById("drawer"));
    const body = h("div.drawer-body", { id: "trace-body" });
    drawer.appendChild(h("div.drawer-head", h("h2", "Trace"), h("code.muted", traceId), h("div.grow"),
      h("a.btn.small", { href: "#traces/" + traceId, onclick: C.closeDrawer }, "Waterfall"),
      h("button.btn.small", { onclick: C.closeDrawer, "aria-label": "Close" }, "Close")));
    drawer.appendChild(body);
    drawer.dataset.trace = traceId;
    drawer.hidden = false;
    let trace = await C.api("/traces/" + encodeURIComponent(traceId));
    renderTrace(body, trace);
    let pending = null;
    const refresh = () => {
      if (pending) return;
      pending = setTimeout(async () => {
        pending = null;
        trace = await C.api("/traces/" + encodeURIComponent(traceId));
        renderTrace(body, trace);
      }, 150);
    };
    drawerOff = [
      C.on("run", (run) => { if (run.trace_id === traceId) refresh(); }),
      C.on("log", (line) => { if (line.trace_id === traceId) refresh(); }),
    ];
  };
})();
