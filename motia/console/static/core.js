/* Motia console core: DOM helpers, JSON rendering, API access and the live feeds. */
"use strict";
(function () {
  const base = document.body.dataset.base;
  /* session: the running app's token for changes; a new one means the app restarted. */
  const C = (window.MotiaConsole = { base, session: document.body.dataset.session, views: {}, state: {} });

  /* h("div.cls", {attrs}, children...): a small element builder. */
  C.h = function h(spec, attrs, ...children) {
    const [tag, ...classes] = spec.split(".");
    const el = document.createElement(tag || "div");
    if (classes.length) el.className = classes.join(" ");
    if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
      children.unshift(attrs);
      attrs = null;
    }
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "class") el.className += " " + value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    C.append(el, children);
    return el;
  };
  C.append = function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  };
  C.clear = (el) => { while (el.firstChild) el.removeChild(el.firstChild); return el; };

  /* Pretty JSON with token colours (built as DOM nodes, never as HTML text). */
  C.json = function json(value, compact) {
    const text = JSON.stringify(value, null, compact ? 0 : 2) ?? "undefined";
    const out = C.h("span.json");
    const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false)\b|\b(null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.appendChild(document.createTextNode(text.slice(last, m.index)));
      const cls = m[1] ? (m[2] ? "k" : "s") : m[3] ? "b" : m[4] ? "z" : "n";
      out.appendChild(C.h("span." + cls, m[1] || m[0]));
      if (m[2]) out.appendChild(document.createTextNode(m[2]));
      last = re.lastIndex;
    }
    if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  };
  C.jsonBox = (value) => C.h("div.json-box", C.json(value));

  C.api = async function api(path, options) {
    if (options && options.method && options.method !== "GET") {
      options = { ...options, headers: { ...(options.headers || {}), "x-motia-session": C.session } };
    }
    const response = await fetch(base + "/api" + path, options);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  };

  C.clock = function clock(seconds) {
    const d = new Date(seconds * 1000);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  };
  C.ms = (value) => value == null ? "…" : value < 1 ? `${value.toFixed(2)} ms` : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`;
  C.kindPill = (kind) => C.h("span.pill.kind-" + (kind || "none"), (kind || "none").toUpperCase());
  C.methodPill = (method) => C.h("span.pill.method.m-" + method, method);
  C.empty = (title, text) => C.h("div.empty", C.h("strong", title), text || "");

  C.triggerLabel = function triggerLabel(t) {
    if (!t) return "";
    if (t.type === "http") return `${t.method} ${t.path}`;
    if (t.type === "queue") return t.topic;
    if (t.type === "cron") return t.expression;
    if (t.type === "stream") return t.stream || t.stream_name || "stream";
    return t.type;
  };

  /* A live SSE feed with handlers per event name; reconnects with a fresh backlog. */
  C.feed = function feed(path, handlers) {
    let source = null;
    const connect = () => {
      source = new EventSource(base + "/api" + path);
      for (const [name, fn] of Object.entries(handlers)) {
        if (name !== "open") source.addEventListener(name, (e) => fn(e.data ? JSON.parse(e.data) : null));
      }
      source.onopen = () => { C.setStatus(true); if (handlers.open) handlers.open(); };
      source.onerror = () => C.setStatus(false);
    };
    connect();
    return { close: () => source && source.close() };
  };
  C.setStatus = function setStatus(live) {
    const el = document.getElementById("status");
    el.classList.toggle("live", live);
    el.classList.toggle("down", !live);
    el.querySelector(".status-text").textContent = live ? "live" : "reconnecting";
  };

  /* Tiny pub/sub so views can follow the shared feeds while they are shown. */
  const topics = {};
  C.on = (topic, fn) => { (topics[topic] = topics[topic] || new Set()).add(fn); return () => topics[topic].delete(fn); };
  C.emit = (topic, value) => { for (const fn of topics[topic] || []) fn(value); };

  C.flash = (el, cls = "flash") => { el.classList.remove(cls); void el.offsetWidth; el.classList.add(cls); };
})();
