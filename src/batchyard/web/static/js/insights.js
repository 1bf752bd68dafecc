// Logs Insights: query editor, log groups, time range, results, histogram, saved queries.
"use strict";

(function () {
  const form = document.getElementById("query-form");
  const groups = document.getElementById("groups");
  const range = document.getElementById("range");
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  const query = document.getElementById("query");
  const run = document.getElementById("run");
  const saved = document.getElementById("saved");
  const saveName = document.getElementById("save-name");
  const deleteSaved = document.getElementById("delete-saved");
  const results = document.getElementById("results");
  let savedQueries = [];

  function chosenGroups() {
    return Array.from(groups.selectedOptions).map((o) => o.value);
  }

  function window_() {
    if (range.value === "custom") {
      const start = Date.parse(from.value + "Z");
      const end = Date.parse(to.value + "Z");
      if (isNaN(start) || isNaN(end)) throw new Error("Pick both ends of the custom time range.");
      return [Math.floor(start / 1000), Math.floor(end / 1000)];
    }
    const end = Math.floor(Date.now() / 1000);
    return [end - Number(range.value), end];
  }

  function table(rows) {
    const fields = [];
    for (const row of rows) for (const k of Object.keys(row)) if (k !== "@ptr" && !fields.includes(k)) fields.push(k);
    results.tHead.replaceChildren(by.el("tr", {}, by.el("th", { scope: "col" }, "#"), fields.map((f) => by.el("th", { scope: "col" }, f))));
    const body = results.tBodies[0];
    if (!rows.length) {
      by.emptyRow(body, fields.length + 1, "No rows match this query in this time range.");
      return;
    }
    body.replaceChildren(...rows.map((row, i) =>
      by.el("tr", {}, by.el("td", { class: "num" }, i + 1), fields.map((f) => by.el("td", { class: "mono" }, row[f] === undefined ? "" : row[f])))));
  }

  function histogram(data, start, end) {
    const panel = document.getElementById("histogram-panel");
    if (!data.histogram) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    const bins = data.histogram.bins.map((b) => ({ t: Date.parse(b.bin.replace(" ", "T") + "Z"), count: b.count }));
    const binMs = data.histogram.binSeconds * 1000;
    byChart.bars(document.getElementById("histogram"), bins, binMs, start * 1000, end * 1000,
      "Matching events over time", (bin) => {
        // A click on a bar narrows the time range to that bin and runs the query again.
        range.value = "custom";
        range.dispatchEvent(new Event("change"));
        from.value = new Date(bin.t).toISOString().slice(0, 19);
        to.value = new Date(bin.t + binMs - 1000).toISOString().slice(0, 19);
        execute();
      });
  }

  async function execute() {
    let start, end;
    try {
      [start, end] = window_();
    } catch (error) {
      by.notice(error.message, true);
      return;
    }
    run.disabled = true;
    by.notice("Running…");
    const began = performance.now();
    try {
      const data = await by.send("POST", "/ui/api/logs/query", {
        query: query.value, logGroups: chosenGroups(), startTime: start, endTime: end,
      });
      table(data.rows);
      histogram(data, start, end);
      const s = data.statistics || {};
      document.getElementById("stats").textContent =
        `${data.rows.length} rows · ${s.recordsMatched ?? "?"} records matched · ${s.recordsScanned ?? "?"} scanned · ${Math.round(performance.now() - began)} ms`;
      by.notice("");
    } catch (error) {
      by.notice(`${error.code}: ${error.message}`, true);
    } finally {
      run.disabled = false;
    }
  }

  async function loadGroups() {
    try {
      const data = await by.get("/ui/api/logs/groups");
      const wanted = new URLSearchParams(location.search).getAll("group");
      groups.replaceChildren(...data.logGroups.map((g) => by.el("option", { value: g, selected: wanted.includes(g) }, g)));
      if (!groups.selectedOptions.length && groups.options.length) groups.options[0].selected = true;
    } catch (error) {
      by.unavailable(error);
    }
  }

  async function loadSaved(selectId) {
    try {
      savedQueries = (await by.get("/ui/api/logs/saved")).queries;
    } catch (error) {
      return;
    }
    saved.replaceChildren(by.el("option", { value: "" }, "—"), ...savedQueries.map((q) => by.el("option", { value: q.id }, q.name)));
    saved.value = selectId || "";
    deleteSaved.disabled = !saved.value;
  }

  saved.addEventListener("change", () => {
    const q = savedQueries.find((s) => s.id === saved.value);
    deleteSaved.disabled = !q;
    if (!q) return;
    query.value = q.query;
    saveName.value = q.name;
    for (const option of groups.options) option.selected = q.logGroups.includes(option.value);
  });

  document.getElementById("save").addEventListener("click", async () => {
    try {
      const q = await by.send("POST", "/ui/api/logs/saved", { name: saveName.value, query: query.value, logGroups: chosenGroups() });
      await loadSaved(q.id);
      by.notice(`Saved "${q.name}".`);
    } catch (error) {
      by.notice(`${error.code}: ${error.message}`, true);
    }
  });

  deleteSaved.addEventListener("click", async () => {
    if (!saved.value) return;
    try {
      await by.send("DELETE", "/ui/api/logs/saved/" + encodeURIComponent(saved.value));
      await loadSaved("");
      by.notice("Deleted.");
    } catch (error) {
      by.notice(`${error.code}: ${error.message}`, true);
    }
  });

  range.addEventListener("change", () => {
    const custom = range.value === "custom";
    for (const label of document.querySelectorAll("label.custom")) label.hidden = !custom;
    if (custom && !from.value) {
      const now = Date.now();
      to.value = new Date(now).toISOString().slice(0, 19);
      from.value = new Date(now - 3600e3).toISOString().slice(0, 19);
    }
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    execute();
  });

  // Links from other pages: ?group=...&query=...[&start=ms&end=ms] open and run a query.
  const linked = new URLSearchParams(location.search);
  const start = Number(linked.get("start"));
  const end = Number(linked.get("end"));
  if (start && end) {
    range.value = "custom";
    range.dispatchEvent(new Event("change"));
    from.value = new Date(start).toISOString().slice(0, 19);
    to.value = new Date(end).toISOString().slice(0, 19);
  }
  if (linked.get("query")) query.value = linked.get("query");
  loadGroups().then(() => {
    if (linked.get("query")) form.requestSubmit();
  });
  loadSaved("");
})();
