// Executions: a filterable list (state machine, status, name); filters live in the URL.
"use strict";

(function () {
  const form = document.getElementById("filters");
  const machine = document.getElementById("f-machine");
  const status = document.getElementById("f-status");
  const name = document.getElementById("f-name");
  const tbody = document.querySelector("#executions tbody");
  const more = document.getElementById("more");
  let token = null;
  let refresh = null;

  const params = new URLSearchParams(location.search);
  status.value = params.get("status") || "";
  name.value = params.get("name") || "";

  function row(e) {
    const link = by.el("a", { href: "/ui/execution?arn=" + encodeURIComponent(e.executionArn) }, e.name);
    const ended = e.stopDate ? new Date(e.stopDate) : new Date();
    const took = ended - new Date(e.startDate);
    return by.el(
      "tr",
      { "data-status": e.status },
      by.el("td", {}, link),
      by.el("td", {}, by.badge(e.status)),
      by.el("td", {}, by.lastPart(e.stateMachineArn)),
      by.el("td", {}, by.time(e.startDate)),
      by.el("td", { class: "num" }, by.duration(took) + (e.stopDate ? "" : " …")),
    );
  }

  function durationsLink() {
    const link = document.getElementById("durations-link");
    link.hidden = !machine.value;
    link.href = "/ui/durations?stateMachineArn=" + encodeURIComponent(machine.value);
  }

  async function load(append) {
    durationsLink();
    const query = {
      stateMachineArn: machine.value,
      mapRunArn: params.get("mapRunArn"),
      status: status.value,
      name: name.value.trim(),
      nextToken: append ? token : null,
    };
    try {
      const data = await by.get("/ui/api/executions", query);
      by.notice("");
      if (!append) tbody.replaceChildren();
      data.executions.forEach((e) => tbody.append(row(e)));
      if (!tbody.children.length) by.emptyRow(tbody, 5, "No executions match these filters.");
      token = data.nextToken;
      more.hidden = !token;
      // While the first page shows running executions, keep it current.
      clearTimeout(refresh);
      if (!append && data.executions.some((e) => e.status === "RUNNING")) {
        refresh = setTimeout(() => load(false), 5000);
      }
    } catch (error) {
      by.unavailable(error);
      by.emptyRow(tbody, 5, "Executions could not be listed.");
    }
  }

  async function machines() {
    try {
      const data = await by.get("/ui/api/state-machines");
      for (const m of data.stateMachines) {
        machine.append(by.el("option", { value: m.stateMachineArn }, m.name));
      }
      machine.value = params.get("stateMachineArn") || "";
    } catch (error) {
      by.unavailable(error);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (params.get("mapRunArn")) next.set("mapRunArn", params.get("mapRunArn"));
    if (machine.value) next.set("stateMachineArn", machine.value);
    if (status.value) next.set("status", status.value);
    if (name.value.trim()) next.set("name", name.value.trim());
    history.replaceState(null, "", "?" + next.toString());
    load(false);
  });
  machine.addEventListener("change", () => form.requestSubmit());
  status.addEventListener("change", () => form.requestSubmit());
  more.addEventListener("click", () => load(true));

  if (params.get("mapRunArn")) {
    const scope = document.getElementById("scope");
    scope.textContent = "Child executions of Map Run " + by.lastPart(params.get("mapRunArn"));
    scope.hidden = false;
  }
  machines().then(() => load(false));
})();
