// Run durations per state machine: each closed execution as a point (start time, duration).
"use strict";

(function () {
  const select = document.getElementById("machine");
  const chart = document.getElementById("chart");
  const summary = document.getElementById("summary");

  function seconds(v) {
    return v >= 120 ? (v / 60).toFixed(1) + " min" : v.toFixed(v < 10 ? 1 : 0) + " s";
  }

  async function draw() {
    const machine = select.value;
    if (!machine) return;
    history.replaceState(null, "", "?stateMachineArn=" + encodeURIComponent(machine));
    try {
      const data = await by.get("/ui/api/durations", { stateMachineArn: machine });
      const items = data.points.map((p) => ({
        t: new Date(p.startDate).getTime(),
        value: p.durationMs / 1000,
        status: p.status,
        label: `${p.name}: ${p.status}, ${by.duration(p.durationMs)} (started ${by.time(p.startDate)})`,
        href: "/ui/execution?arn=" + encodeURIComponent(p.executionArn),
      }));
      byChart.points(chart, items, seconds, "Execution duration by start time");
      document.getElementById("state-sample").textContent = `(the newest ${data.stateSample} closed executions)`;
      const body = document.querySelector("#state-times tbody");
      body.replaceChildren(...data.states.map((s) =>
        by.el("tr", { "data-state": s.name },
          by.el("td", {}, s.name),
          by.el("td", { class: "num" }, s.runs),
          by.el("td", { class: "num" }, by.duration(s.medianMs)),
          by.el("td", { class: "num" }, by.duration(s.p90Ms)),
          by.el("td", { class: "num" }, by.duration(s.maxMs)),
          by.el("td", { class: "num" }, by.duration(s.totalMs)))));
      if (!data.states.length) by.emptyRow(body, 6, "No state has run to its end yet.");
      if (!items.length) {
        summary.textContent = "No closed executions of this state machine yet.";
        return;
      }
      const sorted = items.map((p) => p.value).sort((a, b) => a - b);
      const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      summary.textContent =
        `${items.length} executions · median ${seconds(pick(0.5))} · p90 ${seconds(pick(0.9))} · max ${seconds(sorted[sorted.length - 1])}`;
      by.notice("");
    } catch (error) {
      by.unavailable(error);
    }
  }

  async function init() {
    try {
      const data = await by.get("/ui/api/state-machines");
      if (!data.stateMachines.length) {
        by.notice("No state machines yet.");
        return;
      }
      for (const m of data.stateMachines) select.append(by.el("option", { value: m.stateMachineArn }, m.name));
      const wanted = new URLSearchParams(location.search).get("stateMachineArn");
      if (wanted) select.value = wanted;
      await draw();
    } catch (error) {
      by.unavailable(error);
    }
  }

  select.addEventListener("change", draw);
  init();
})();
