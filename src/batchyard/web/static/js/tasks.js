// ECS task runs, and the selected task's logs, polled while the task runs.
"use strict";

(function () {
  const tbody = document.querySelector("#tasks tbody");
  const panel = document.getElementById("logs-panel");
  const out = document.getElementById("logs");
  let follow = null;

  function exitCodes(t) {
    return (t.containers || []).map((c) => (c.exitCode === undefined ? "" : `${c.name}: ${c.exitCode}`)).filter(Boolean).join(", ");
  }

  function watch(task) {
    clearTimeout(follow);
    panel.hidden = false;
    const id = by.lastPart(task.taskArn);
    document.getElementById("logs-title").textContent = `Logs of task ${id}`;
    out.textContent = "";
    let token = null;
    const poll = async () => {
      try {
        const data = await by.get("/ui/api/task-logs", { cluster: task.clusterArn, task: task.taskArn, nextToken: token });
        document.getElementById("logs-where").textContent = data.stream
          ? `${data.logGroup} › ${data.stream}` : "This task's containers have no awslogs configuration.";
        for (const e of data.events) out.append(`${by.time(e.timestamp)}  ${e.message}\n`);
        if (data.events.length) out.scrollTop = out.scrollHeight;
        token = data.nextToken || token;
        // Follow while the task runs; once it stopped, one more empty page ends the tail.
        const stopped = data.taskStatus === "STOPPED";
        if (data.stream && !(stopped && !data.events.length)) follow = setTimeout(poll, 2000);
        else if (stopped) document.getElementById("logs-where").append(" (task stopped)");
      } catch (error) {
        document.getElementById("logs-where").textContent = error.message;
      }
    };
    poll();
  }

  async function load() {
    try {
      const data = await by.get("/ui/api/tasks");
      const rows = data.tasks.map((t) =>
        by.el("tr", {},
          by.el("td", {}, by.el("a", { href: "#logs-panel", onclick: (ev) => { ev.preventDefault(); watch(t); } }, by.lastPart(t.taskArn))),
          by.el("td", {}, String(t.taskDefinitionArn || "").split("/").pop()),
          by.el("td", {}, by.badge(t.lastStatus || "")),
          by.el("td", {}, t.stopCode || ""),
          by.el("td", {}, exitCodes(t)),
          by.el("td", {}, by.time(t.startedAt || t.createdAt)),
          by.el("td", {}, by.time(t.stoppedAt))));
      tbody.replaceChildren(...rows);
      if (!rows.length) by.emptyRow(tbody, 7, "No task runs yet.");
    } catch (error) {
      by.unavailable(error);
      by.emptyRow(tbody, 7, "Task runs are not available on this server.");
    }
  }

  load();
})();
