// Schedules: expression, state, target, next fire times; a schedule's slot history on click.
"use strict";

(function () {
  const tbody = document.querySelector("#schedules tbody");
  const detail = document.getElementById("detail");

  function value(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return /^\d{4}-\d\d-\d\dT/.test(String(v)) ? by.time(v) : String(v);
  }

  async function show(s) {
    detail.hidden = false;
    document.getElementById("detail-title").textContent = `${s.Name}: next fire times and slot history`;
    const body = document.getElementById("detail-body");
    body.replaceChildren(by.el("p", { class: "muted" }, "Loading…"));
    try {
      const data = await by.get("/ui/api/schedule", { name: s.Name, group: s.GroupName });
      const next = data.schedule.NextFireTimes || [];
      const parts = [by.el("h3", {}, "Next fire times"),
        next.length ? by.el("ul", {}, next.map((t) => by.el("li", {}, by.time(t)))) : by.el("p", { class: "muted" }, "None (disabled, or past its end).")];
      parts.push(by.el("h3", {}, "Slot history"));
      if (!data.slots.length) {
        parts.push(by.el("p", { class: "muted" }, "No slots fired yet."));
      } else {
        const columns = Object.keys(data.slots[0]);
        parts.push(by.el("div", { class: "scroll" }, by.el("table", { class: "grid", id: "slots" },
          by.el("thead", {}, by.el("tr", {}, columns.map((c) => by.el("th", { scope: "col" }, c)))),
          by.el("tbody", {}, data.slots.map((row) => by.el("tr", {}, columns.map((c) => by.el("td", { class: "mono" }, value(row[c])))))))));
      }
      body.replaceChildren(...parts);
    } catch (error) {
      body.replaceChildren(by.el("p", { class: "error" }, error.message));
    }
  }

  async function load() {
    try {
      const data = await by.get("/ui/api/schedules");
      const rows = data.schedules.map((s) => {
        const link = by.el("a", { href: "#detail", onclick: (ev) => { ev.preventDefault(); show(s); } }, s.Name);
        return by.el("tr", {},
          by.el("td", {}, link),
          by.el("td", {}, s.GroupName || "default"),
          by.el("td", {}, by.badge(s.State || "")),
          by.el("td", { class: "mono" }, s.ScheduleExpression + (s.ScheduleExpressionTimezone ? ` (${s.ScheduleExpressionTimezone})` : "")),
          by.el("td", { class: "mono" }, by.lastPart(s.Target && s.Target.Arn)),
          by.el("td", {}, (s.NextFireTimes || []).map((t) => by.el("div", {}, by.time(t)))));
      });
      tbody.replaceChildren(...rows);
      if (!rows.length) by.emptyRow(tbody, 6, "No schedules yet.");
    } catch (error) {
      by.unavailable(error);
      by.emptyRow(tbody, 6, "Schedules are not available on this server.");
    }
  }

  load();
})();
