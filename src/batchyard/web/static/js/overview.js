// Overview: per state machine counts, the latest failures, the next schedule fire times.
"use strict";

(function () {
  function count(n, status) {
    return by.el("td", { class: "num", "data-count": status }, n ? by.el("span", { class: "badge " + status }, n) : "0");
  }

  function executionsLink(m, status, text) {
    const q = new URLSearchParams({ stateMachineArn: m.stateMachineArn });
    if (status) q.set("status", status);
    return by.el("a", { href: "/ui/executions?" + q.toString() }, text);
  }

  async function load() {
    let data;
    try {
      data = await by.get("/ui/api/overview");
    } catch (error) {
      by.unavailable(error);
      return;
    }
    const machines = document.querySelector("#machines tbody");
    machines.replaceChildren(...data.stateMachines.map((m) =>
      by.el("tr", { "data-machine": m.name },
        by.el("td", {}, executionsLink(m, "", m.name)),
        by.el("td", {}, m.type),
        count(m.running, "RUNNING"),
        count(m.ended.SUCCEEDED || 0, "SUCCEEDED"),
        count(m.ended.FAILED || 0, "FAILED"),
        count(m.ended.TIMED_OUT || 0, "TIMED_OUT"),
        count(m.ended.ABORTED || 0, "ABORTED"),
        by.el("td", {}, by.time(m.lastStart) || "never"),
        by.el("td", {}, by.el("a", { href: "/ui/durations?stateMachineArn=" + encodeURIComponent(m.stateMachineArn) }, "durations")))));
    if (!data.stateMachines.length) by.emptyRow(machines, 9, "No state machines yet.");

    const failures = document.querySelector("#failures tbody");
    failures.replaceChildren(...data.failures.map((f) =>
      by.el("tr", {},
        by.el("td", {}, by.el("a", { href: "/ui/execution?arn=" + encodeURIComponent(f.executionArn) }, f.name),
          by.el("div", { class: "muted small" }, by.lastPart(f.stateMachineArn))),
        by.el("td", {}, by.el("strong", {}, f.error || f.status), by.el("div", { class: "muted small mono" }, f.cause || "")),
        by.el("td", {}, by.time(f.stopDate)))));
    if (!data.failures.length) by.emptyRow(failures, 3, "No failed executions.");

    const upcoming = document.querySelector("#upcoming tbody");
    if (data.upcoming === null) {
      by.emptyRow(upcoming, 3, "EventBridge Scheduler is not available on this server.");
    } else {
      upcoming.replaceChildren(...data.upcoming.map((u) =>
        by.el("tr", {},
          by.el("td", {}, by.time(u.at)),
          by.el("td", {}, by.el("a", { href: "/ui/schedules" }, u.name)),
          by.el("td", { class: "mono" }, by.lastPart(u.target)))));
      if (!data.upcoming.length) by.emptyRow(upcoming, 3, "Nothing scheduled.");
    }
    by.notice("");
  }

  load();
  setInterval(load, 10000);
})();
