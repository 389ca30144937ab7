/* State and Streams views: groups, keys and values, kept live from the store's changes. */
"use strict";
(function () {
  const C = window.MotiaConsole;
  const h = C.h;
  const FEED_SIZE = 30;

  /* groups: Map(group -> Map(id -> value)), updated in place from change events. */
  function model(groups) {
    return new Map(groups.map((g) => [g.group, new Map(g.items.map((i) => [i.id, i.value]))]));
  }
  function apply(groups, change) {
    if (change.kind === "event") return;
    const items = groups.get(change.group) || new Map();
    if (change.kind === "delete") items.delete(change.id); else items.set(change.id, change.value);
    if (items.size) groups.set(change.group, items); else groups.delete(change.group);
  }

  /* ---- State ---- */
  function stateTable(group, items, flashId) {
    const rows = [...items].map(([id, value]) => {
      const tr = h("tr", { "data-key": id }, h("td.mono", { style: "width:28%" }, id), h("td", C.json(value)));
      if (id === flashId) C.flash(tr);
      return tr;
    });
    return h("section.panel", { "data-group": group, style: "margin-bottom:16px" },
      h("div.panel-head", h("h3.mono", group), h("span.muted", `${items.size} key${items.size === 1 ? "" : "s"}`)),
      h("table.grid", h("thead", h("tr", h("th", "key"), h("th", "value"))), h("tbody", rows)));
  }

  C.views.state = {
    async mount(el) {
      el.classList.add("split");
      const groups = model(await C.api("/state"));
      let selected = "";
      const list = h("ul.list", { id: "state-groups" });
      const main = h("div", { id: "state-main" });
      const renderList = () => {
        C.clear(list);
        const all = h("li" + (selected ? "" : ".active"), { onclick: () => { selected = ""; render(); } }, "All groups", h("span.count", String(groups.size)));
        list.appendChild(all);
        for (const [name, items] of [...groups].sort()) {
          list.appendChild(h("li" + (selected === name ? ".active" : ""), { onclick: () => { selected = name; render(); } },
            h("span.mono", name), h("span.count", String(items.size))));
        }
      };
      const render = (flash) => {
        renderList();
        C.clear(main);
        const shown = [...groups].sort().filter(([name]) => !selected || name === selected);
        for (const [name, items] of shown) main.appendChild(stateTable(name, items, flash && flash.group === name ? flash.id : null));
        if (!shown.length) main.appendChild(h("div.panel", C.empty("No state yet", "Values written with ctx.state.set(group, key, value) appear here as they change.")));
      };
      el.appendChild(h("div.panel", h("div.panel-head", h("h2", "State groups")), list));
      el.appendChild(main);
      render();
      this.off = [
        C.on("change", (change) => {
          if (change.namespace !== "state") return;
          apply(groups, change);
          render(change);
        }),
        C.on("changes-dropped", async () => { const fresh = model(await C.api("/state")); groups.clear(); for (const [k, v] of fresh) groups.set(k, v); render(); }),
      ];
    },
    unmount() { for (const off of this.off || []) off(); },
  };

  /* ---- Streams ---- */
  function subscribersLabel(count) {
    return h("span.subs" + (count ? ".on" : ""), { "data-subscribers": String(count) }, h("span.dot"), `${count} subscriber${count === 1 ? "" : "s"}`);
  }

  function feedLine(change) {
    const msg = { groupId: change.group };
    if (change.id) msg.id = change.id;
    msg.event = change.kind === "event" ? { type: "event", event: change.event } : { type: change.kind, data: change.value };
    return h("div", { title: JSON.stringify(msg, null, 2) }, h("span.faint", C.clock(Date.now() / 1000) + "  "), JSON.stringify(msg));
  }

  C.views.streams = {
    async mount(el) {
      const streams = await C.api("/streams");
      const models = new Map(streams.map((s) => [s.name, model(s.groups)]));
      /* Protected streams: name -> subscriber count, items withheld by the server. */
      const hidden = new Map(streams.filter((s) => s.protected).map((s) => [s.name, s.subscribers]));
      const feeds = new Map();
      let counts = {};
      const root = h("div.stack", { id: "streams" });
      const groupBlock = (stream, group, items, flashId) => {
        const cards = [...items].map(([id, value]) => {
          const card = h("div.item", { "data-item": id }, h("div.item-id", id), C.json(value));
          if (id === flashId) C.flash(card);
          return card;
        });
        const feed = feeds.get(`${stream}/${group}`) || [];
        return h("div.stream-group", { "data-group": group },
          h("div.group-head", h("span.name", group), subscribersLabel(counts[`${stream}/${group}`] || 0),
            h("span.muted", `${items.size} item${items.size === 1 ? "" : "s"}`)),
          cards.length ? h("div.items", cards) : h("div.faint", "no items"),
          feed.length ? h("div.feed", { title: "Messages as subscribers receive them" }, feed.slice().reverse()) : null);
      };
      const renderStream = (name, flash) => {
        if (hidden.has(name)) return renderProtected(name);
        const groups = models.get(name);
        const total = Object.entries(counts).filter(([k]) => k.split("/")[0] === name).reduce((a, [, n]) => a + n, 0);
        const panel = h("section.panel", { "data-stream": name },
          h("div.panel-head", h("h2", name), subscribersLabel(total), h("span.muted", `${groups.size} group${groups.size === 1 ? "" : "s"}`)),
          groups.size ? [...groups].sort().map(([g, items]) => groupBlock(name, g, items, flash && flash.group === g ? flash.id : null))
            : h("div.empty", "No items yet: writes to this stream show up here live."));
        const old = root.querySelector(`[data-stream="${CSS.escape(name)}"]`);
        if (old) old.replaceWith(panel); else root.appendChild(panel);
      };
      const renderProtected = (name) => {
        const panel = h("section.panel", { "data-stream": name, "data-protected": "" },
          h("div.panel-head", h("h2", name), subscribersLabel(hidden.get(name)), h("span.pill", "protected")),
          h("div.empty.protected-note", "Its readers are checked by stream_auth or on_join: the console shows its items in dev mode or when opened with the console token."));
        const old = root.querySelector(`[data-stream="${CSS.escape(name)}"]`);
        if (old) old.replaceWith(panel); else root.appendChild(panel);
      };
      const renderAll = () => { for (const name of models.keys()) renderStream(name); };
      el.appendChild(h("div.row", { style: "margin-bottom:12px" }, h("span.muted", "Items and messages as stream subscribers see them; counts of connected subscribers refresh every two seconds.")));
      el.appendChild(root);
      if (!models.size) root.appendChild(h("div.panel", C.empty("No streams", "Declare one in a *.stream.py file.")));
      renderAll();
      const poll = async () => {
        const fresh = await C.api("/subscribers").catch(() => counts);
        if (JSON.stringify(fresh) !== JSON.stringify(counts)) { counts = fresh; renderAll(); }
      };
      const timer = setInterval(poll, 2000);
      poll();
      this.off = [
        () => clearInterval(timer),
        C.on("changes-dropped", async () => {
          for (const s of await C.api("/streams")) models.set(s.name, model(s.groups));
          renderAll();
        }),
        C.on("change", (change) => {
          if (!change.namespace.startsWith("stream:")) return;
          const name = change.namespace.slice(7);
          if (!models.has(name)) models.set(name, new Map());
          apply(models.get(name), change);
          const key = `${name}/${change.group}`;
          const feed = feeds.get(key) || [];
          feed.push(feedLine(change));
          if (feed.length > FEED_SIZE) feed.shift();
          feeds.set(key, feed);
          renderStream(name, change);
        }),
      ];
    },
    unmount() { for (const off of this.off || []) off(); },
  };
})();
