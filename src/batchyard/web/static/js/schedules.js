// Schedules: expression, state, target, next fire times; a schedule's slot history on click.
"use strict";

(function () {
  const tbody = document.querySelector("#schedules tbody");
  const detail = document.getElementById("detail");

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
        const target = (ref) => ref && ref.includes(":execution:")
          ? by.el("a", { href: "/ui/execution?arn=" + encodeURIComponent(ref) }, by.lastPart(ref))
          : ref || "";
        parts.push(by.el("div", { class: "scroll" }, by.el("table", { class: "grid", id: "slots" },
          by.el("thead", {}, by.el("tr", {}, ["Slot", "Due", "Status", "Attempts", "Started", "Reason", "Settled"].map((c) => by.el("th", { scope: "col" }, c)))),
          by.el("tbody", {}, data.slots.map((slot) => by.el("tr", { "data-status": slot.status },
            by.el("td", {}, by.time(slot.slot)),
            by.el("td", {}, by.time(slot.dueAt)),
            by.el("td", {}, by.badge(slot.status)),
            by.el("td", { class: "num" }, slot.attempts),
            by.el("td", { class: "mono" }, target(slot.targetRef)),
            by.el("td", {}, slot.reason || ""),
            by.el("td", {}, by.time(slot.settled))))))));
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
