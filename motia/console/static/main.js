/* Motia console: the shared live feeds and the view router. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const MAX_LOGS = 5000;
  C.state.logs = [];
  C.state.runs = new Map();

  C.feed("/logs/stream", {
    /* First the app's session: a new one means the app restarted (a dev reload), so the
       view on screen is read again. */
    hello: (hello) => {
      const restarted = hello.session !== C.session;
      C.session = hello.session;
      if (restarted) C.emit("app-restarted");
    },
    /* Every connection starts with the server's backlog: start from it, not on top of it. */
    open: () => {
      C.state.logs = [];
      C.state.runs = new Map();
      C.emit("logs-reset");
    },
    log: (entry) => {
      C.state.logs.push(entry);
      if (C.state.logs.length > MAX_LOGS) C.state.logs.splice(0, C.state.logs.length - MAX_LOGS);
      C.emit("log", entry);
    },
    run: (run) => {
      const runs = C.state.runs.get(run.trace_id) || [];
      const at = runs.findIndex((r) => r.id === run.id);
      if (at >= 0) runs[at] = run; else runs.push(run);
      C.state.runs.set(run.trace_id, runs);
      C.emit("run", run);
    },
    ready: () => C.emit("logs-ready"),
  });
  C.feed("/changes/stream", {
    /* A page that fell behind is ended by the server; after the reconnect, re-read. */
    open: () => C.emit("changes-dropped"),
    change: (change) => C.emit("change", change),
    resync: () => C.emit("changes-dropped"),
  });

  let current = null;
  function route() {
    const name = (location.hash || "#flows").slice(1).split("/")[0] || "flows";
    const view = C.views[name] || C.views.flows;
    if (current && current.unmount) current.unmount();
    const el = document.getElementById("view");
    C.clear(el);
    el.className = "view";
    for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.view === name);
    current = view;
    view.mount(el, decodeURIComponent((location.hash.split("/")[1] || "")));
  }
  window.addEventListener("hashchange", route);
  /* Views that follow the feeds themselves (logs) stay; the others are mounted afresh. */
  C.on("app-restarted", () => { if (!(current && current.followsFeeds)) route(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") C.closeDrawer(); });
  route();
})();
