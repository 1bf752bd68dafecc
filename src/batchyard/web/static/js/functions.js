// Functions and, for the selected one, its recent invocations.
"use strict";

(function () {
  const tbody = document.querySelector("#functions tbody");

  async function invocations(name) {
    document.getElementById("inv-panel").hidden = false;
    document.getElementById("inv-title").textContent = `Invocations of ${name}`;
    const body = document.querySelector("#invocations tbody");
    try {
      const data = await by.get("/ui/api/invocations", { name });
      const group = "/aws/lambda/" + name;
      body.replaceChildren(...data.invocations.map((i) => {
        const query = `fields @timestamp, @message\n| filter @logStream = "${i.logStream}"\n| sort @timestamp asc`;
        const logs = i.logStream
          ? by.el("a", { href: "/ui/insights?" + new URLSearchParams({ group, query }).toString() }, i.logStream)
          : "";
        const status = i.status || (i.durationMs === undefined ? "RUNNING" : "");
        return by.el("tr", { "data-request-id": i.requestId },
          by.el("td", { class: "mono" }, i.requestId),
          by.el("td", {}, by.time(i.start)),
          by.el("td", {}, status ? by.badge(status) : "", i.errorType ? " " + i.errorType : ""),
          by.el("td", { class: "num" }, i.durationMs === undefined ? "" : by.duration(i.durationMs)),
          by.el("td", {}, i.coldStart === undefined ? "" : i.coldStart ? "yes" : "no"),
          by.el("td", { class: "num" }, i.maxMemoryUsedMb ? `${i.maxMemoryUsedMb} MB` : ""),
          by.el("td", { class: "mono" }, logs));
      }));
      if (!data.invocations.length) by.emptyRow(body, 7, "No invocations recorded yet.");
    } catch (error) {
      by.emptyRow(body, 7, error.message);
    }
  }

  async function load() {
    try {
      const data = await by.get("/ui/api/functions");
      const rows = data.functions.map((f) =>
        by.el("tr", {},
          by.el("td", {}, by.el("a", { href: "#inv-panel", onclick: (ev) => { ev.preventDefault(); invocations(f.FunctionName); } }, f.FunctionName)),
          by.el("td", {}, f.Runtime || ""),
          by.el("td", { class: "mono" }, f.Handler || ""),
          by.el("td", { class: "num" }, f.MemorySize ? `${f.MemorySize} MB` : ""),
          by.el("td", { class: "num" }, f.Timeout ? `${f.Timeout} s` : ""),
          by.el("td", {}, by.time(f.LastModified))));
      tbody.replaceChildren(...rows);
      if (!rows.length) by.emptyRow(tbody, 6, "No functions yet.");
    } catch (error) {
      by.unavailable(error);
      by.emptyRow(tbody, 6, "Functions are not available on this server.");
    }
  }

  load();
})();
