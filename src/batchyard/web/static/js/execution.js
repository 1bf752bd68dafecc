// One execution: facts, the graph coloured by status, state input/output, history, stop/redrive.
"use strict";

(function () {
  const arn = new URLSearchParams(location.search).get("arn") || "";
  const stop = document.getElementById("stop");
  const redrive = document.getElementById("redrive");
  const graphBox = document.getElementById("graph");
  let selected = null;
  let timer = null;
  let events = [];
  let drawnCount = -1;

  function fact(term, value) {
    return by.el("div", {}, by.el("dt", {}, term), by.el("dd", {}, value));
  }

  function showState(name, type, s) {
    selected = name;
    document.getElementById("state-title").textContent = name;
    document.getElementById("state-hint").hidden = true;
    const parts = [
      by.el("dl", { class: "facts" },
        fact("Type", type),
        fact("Status", byGraph.LABELS[s.status]),
        fact("Entered", by.time(s.entered) || "—"),
        fact("Exited", by.time(s.exited) || "—"),
        fact("Duration", s.entered && s.exited ? by.duration(new Date(s.exited) - new Date(s.entered)) : "—"),
        fact("Retries", String(s.retries || 0))),
    ];
    if (s.error) {
      parts.push(by.el("h3", {}, "Error"), by.el("pre", { class: "json" }, `${s.error.error || ""}\n${s.error.cause || ""}`));
    }
    parts.push(by.el("h3", {}, "Input"), by.el("pre", { class: "json", "data-io": "input" }, s.input === undefined ? "—" : by.pretty(s.input)));
    parts.push(by.el("h3", {}, "Output"), by.el("pre", { class: "json", "data-io": "output" }, s.output === undefined ? "—" : by.pretty(s.output)));
    document.getElementById("state-details").replaceChildren(...parts);
  }

  function stepOf(event) {
    const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
    return (key && event[key] && event[key].name) || "";
  }

  function details(event) {
    const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
    if (!key) return "";
    const d = { ...event[key] };
    delete d.name;
    if (!Object.keys(d).length) return "";
    return by.el("details", {}, by.el("summary", {}, Object.keys(d).join(", ")), by.el("pre", { class: "json" }, by.pretty(d)));
  }

  function history(events, started) {
    const rows = events.map((e) =>
      by.el("tr", { "data-type": e.type },
        by.el("td", { class: "num" }, e.id),
        by.el("td", {}, e.type),
        by.el("td", {}, stepOf(e)),
        by.el("td", { class: "num" }, by.duration(new Date(e.timestamp) - started)),
        by.el("td", {}, by.time(e.timestamp)),
        by.el("td", {}, details(e))));
    document.querySelector("#events tbody").replaceChildren(...rows);
  }

  async function load() {
    let data;
    try {
      // Only the events after the last one this page has (the whole history the first time).
      const last = events.length ? events[events.length - 1].id : 0;
      data = await by.get("/ui/api/execution", { arn, afterEventId: last });
    } catch (error) {
      by.unavailable(error);
      return;
    }
    events = events.concat(data.events);
    const e = data.execution;
    document.title = `${e.name} · batchyard`;
    document.getElementById("crumb-name").textContent = e.name;
    document.getElementById("exec-name").textContent = e.name;
    document.getElementById("exec-status").replaceWith(Object.assign(by.badge(e.status), { id: "exec-status" }));
    const machineLink = by.el("a", { href: "/ui/executions?stateMachineArn=" + encodeURIComponent(data.stateMachine.stateMachineArn) }, data.stateMachine.name);
    const facts = [
      fact("Execution ARN", by.el("span", { class: "mono" }, e.executionArn)),
      fact("State machine", machineLink),
      fact("Started", by.time(e.startDate)),
      fact("Stopped", by.time(e.stopDate) || "—"),
      fact("Duration", by.duration((e.stopDate ? new Date(e.stopDate) : new Date()) - new Date(e.startDate))),
      fact("Redrives", String(e.redriveCount || 0)),
    ];
    for (const group of data.stateMachine.logGroups || []) {
      const query = `fields @timestamp, type, id, previous_event_id, details\n| filter execution_arn = "${e.executionArn}"\n| sort id asc`;
      const since = new Date(e.startDate).getTime();
      const href = "/ui/insights?" + new URLSearchParams({ group, query, start: since - 60e3, end: (e.stopDate ? new Date(e.stopDate).getTime() : Date.now()) + 60e3 });
      facts.push(fact("Execution log", by.el("a", { href, id: "exec-logs" }, group)));
    }
    const runs = new Set(events.filter((ev) => ev.type === "MapRunStarted").map((ev) => (ev.mapRunStartedEventDetails || {}).mapRunArn).filter(Boolean));
    for (const run of runs) {
      facts.push(fact("Map Run", by.el("a", { href: "/ui/executions?mapRunArn=" + encodeURIComponent(run) }, by.lastPart(run))));
    }
    if (e.mapRunArn) {
      facts.push(fact("Part of Map Run", by.el("a", { href: "/ui/executions?mapRunArn=" + encodeURIComponent(e.mapRunArn) }, by.lastPart(e.mapRunArn))));
    }
    if (e.error) facts.push(fact("Error", e.error));
    if (e.cause) facts.push(fact("Cause", by.el("span", { class: "mono" }, e.cause)));
    document.getElementById("facts").replaceChildren(...facts);
    document.getElementById("exec-input").textContent = by.pretty(e.input);
    document.getElementById("exec-output").textContent = e.output !== undefined ? by.pretty(e.output) : "—";
    stop.hidden = e.status !== "RUNNING";
    redrive.hidden = e.redriveStatus !== "REDRIVABLE";
    if (events.length !== drawnCount) {
      drawnCount = events.length;
      try {
        const drawn = byGraph.render(graphBox, data.stateMachine.definition, events, showState);
        if (selected && drawn.nodes[selected]) drawn.nodes[selected].dispatchEvent(new Event("click"));
      } catch (error) {
        graphBox.replaceChildren(by.el("p", { class: "error" }, "The graph could not be drawn: " + error.message));
      }
      history(events, new Date(e.startDate));
    }
    clearTimeout(timer);
    if (e.status === "RUNNING" || e.status === "PENDING_REDRIVE") timer = setTimeout(load, 2000);
  }

  async function act(button, path, verb) {
    button.disabled = true;
    try {
      await by.send("POST", path, { executionArn: arn });
      by.notice(`${verb} requested.`);
    } catch (error) {
      by.notice(`${verb} failed: ${error.code}: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
    await load();
  }

  stop.addEventListener("click", () => {
    if (confirm("Stop this execution? It ends ABORTED.")) act(stop, "/ui/api/execution/stop", "Stop");
  });
  redrive.addEventListener("click", () => act(redrive, "/ui/api/execution/redrive", "Redrive"));
  if (!arn) by.notice("No execution given (?arn=...).", true);
  else load();
})();
