// The state machine graph: ASL definition -> dagre layout -> SVG, states coloured by status.
//
// Status per state comes from the execution history, as the AWS console derives it:
// succeeded (exited normally), failed (the error ended the execution, or a Fail state),
// in progress (entered, not exited), caught error (failed, then left through a Catch),
// cancelled (in progress when the execution was stopped), not reached (never entered).
"use strict";

const byGraph = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const START = "__start__";
  const END = "__end__";
  const LABELS = {
    succeeded: "Succeeded",
    failed: "Failed",
    running: "In progress",
    caught: "Caught error",
    cancelled: "Cancelled",
    notreached: "Not reached",
  };
  const TASK_FAILURES = /^(Task|Activity|LambdaFunction)(Failed|TimedOut|StartFailed|SubmitFailed|ScheduleFailed)$/;
  const TASK_STARTS = /^(Task|Activity|LambdaFunction)(Scheduled)$/;
  const BLOCK_FAILURES = /^(Map|Parallel)StateFailed$|^MapRunFailed$/;

  // ---------------------------------------------------------------- the definition as a graph

  function collect(definition, graph, successors, parent, types) {
    const states = definition.States || {};
    for (const [name, state] of Object.entries(states)) {
      types[name] = state.Type;
      graph.setNode(name, {
        kind: "state",
        name,
        type: state.Type,
        width: Math.max(130, name.length * 7.4 + 32),
        height: 44,
      });
      if (parent) graph.setParent(name, parent);
    }
    for (const [name, state] of Object.entries(states)) {
      const next = [];
      if (state.Next) next.push([state.Next, "next"]);
      if (state.Default) next.push([state.Default, "next"]);
      for (const choice of state.Choices || []) if (choice.Next) next.push([choice.Next, "next"]);
      for (const c of state.Catch || []) if (c.Next) next.push([c.Next, "catch"]);
      const ends = state.End || state.Type === "Succeed" || state.Type === "Fail";
      const branches = state.Type === "Parallel" ? state.Branches || [] : [];
      const processor = state.ItemProcessor || state.Iterator;
      if (state.Type === "Map" && processor) branches.push(processor);
      if (branches.length) {
        // The block's own way out: what its branches lead to when they end.
        const out = next.filter(([, k]) => k === "next").map(([t]) => t);
        const after = out.length ? out : ends ? successors : [];
        branches.forEach((branch, i) => {
          let cluster = null;
          if (graph.isCompound()) {
            cluster = `cluster:${name}:${i}`;
            graph.setNode(cluster, { kind: "cluster", label: state.Type === "Map" ? "Iteration" : `Branch ${i + 1}` });
            if (parent) graph.setParent(cluster, parent);
          }
          collect(branch, graph, after, cluster, types);
          if (branch.StartAt) graph.setEdge(name, branch.StartAt, { kind: "next" }, `${name}->${branch.StartAt}`);
        });
        for (const [target, kind] of next.filter(([, k]) => k === "catch")) {
          graph.setEdge(name, target, { kind }, `${name}->${target}:${kind}`);
        }
        continue;
      }
      for (const [target, kind] of next) graph.setEdge(name, target, { kind }, `${name}->${target}:${kind}`);
      if (ends && state.Type !== "Fail") {
        for (const target of successors) graph.setEdge(name, target, { kind: "next" }, `${name}->${target}:end`);
      }
    }
  }

  function build(definition, compound) {
    const graph = new dagre.graphlib.Graph({ compound, multigraph: true });
    graph.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 36, marginx: 16, marginy: 16 });
    graph.setDefaultEdgeLabel(() => ({}));
    graph.setNode(START, { kind: "terminal", label: "Start", width: 56, height: 56 });
    graph.setNode(END, { kind: "terminal", label: "End", width: 56, height: 56 });
    const types = {};
    collect(definition, graph, [END], null, types);
    if (definition.StartAt) graph.setEdge(START, definition.StartAt, { kind: "next" }, "start");
    // Fail states (and anything whose target is missing) get no edge to End; keep End anyway.
    return { graph, types };
  }

  // ---------------------------------------------------------------- history -> status per state

  function statuses(events, types) {
    const states = {};
    const order = []; // names in the order they were entered (last entry wins)
    const record = (name) => (states[name] = states[name] || { name, status: "notreached", entries: 0, retries: 0 });
    const latestOpen = (test) => {
      for (let i = order.length - 1; i >= 0; i--) {
        const s = states[order[i]];
        if (s.status === "running" && test(types[s.name])) return s;
      }
      return null;
    };
    for (const event of events) {
      const type = event.type;
      if (type.endsWith("StateEntered")) {
        const d = event.stateEnteredEventDetails || {};
        const s = record(d.name);
        s.status = type === "FailStateEntered" ? "failed" : "running";
        s.input = d.input;
        s.entered = event.timestamp;
        s.exited = undefined;
        s.output = undefined;
        s.error = undefined;
        s.entries += 1;
        order.push(d.name);
      } else if (type.endsWith("StateExited")) {
        const d = event.stateExitedEventDetails || {};
        const s = record(d.name);
        if (s.status !== "failed") s.status = s.error ? "caught" : "succeeded";
        s.output = d.output;
        s.exited = event.timestamp;
      } else if (TASK_FAILURES.test(type) || BLOCK_FAILURES.test(type)) {
        const wantsBlock = BLOCK_FAILURES.test(type);
        const s = latestOpen((t) => (wantsBlock ? t === "Map" || t === "Parallel" : t === "Task"));
        if (s) {
          const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
          const d = (key && event[key]) || {};
          s.error = { error: d.error, cause: d.cause, event: type };
        }
      } else if (TASK_STARTS.test(type)) {
        const s = latestOpen((t) => t === "Task");
        if (s && s.error) {
          s.retries += 1; // scheduled again after a failure: a Retry
          s.error = undefined;
        }
      } else if (type === "ExecutionFailed" || type === "ExecutionTimedOut") {
        for (const s of Object.values(states)) if (s.status === "running") s.status = "failed";
      } else if (type === "ExecutionAborted") {
        for (const s of Object.values(states)) if (s.status === "running") s.status = "cancelled";
      } else if (type === "ExecutionRedriven") {
        // The states the execution ended in run again (re-entered, or resumed in place).
        for (const s of Object.values(states)) {
          const ended = s.status === "cancelled" || (s.status === "failed" && types[s.name] !== "Fail");
          if (ended && s.exited === undefined) s.status = "running";
        }
      }
    }
    return states;
  }

  // ---------------------------------------------------------------- SVG

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function edgePath(points) {
    let d = `M${points[0].x},${points[0].y}`;
    for (let i = 1; i < points.length - 1; i++) {
      const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
      d += ` Q${points[i].x},${points[i].y} ${mid.x},${mid.y}`;
    }
    const last = points[points.length - 1];
    return d + ` L${last.x},${last.y}`;
  }

  function layout(definition) {
    try {
      const built = build(definition, true);
      dagre.layout(built.graph);
      return built;
    } catch (error) {
      // Compound layouts can fail on unusual shapes; a flat layout always works.
      const built = build(definition, false);
      dagre.layout(built.graph);
      return built;
    }
  }

  function render(container, definitionText, events, onSelect) {
    const definition = JSON.parse(definitionText);
    const { graph, types } = layout(definition);
    const status = statuses(events, types);
    const info = graph.graph();
    const root = svg("svg", {
      width: Math.ceil(info.width),
      height: Math.ceil(info.height),
      viewBox: `0 0 ${Math.ceil(info.width)} ${Math.ceil(info.height)}`,
      role: "group",
      "aria-label": "State machine graph",
    });
    root.append(
      svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
        svg("path", { d: "M0,0 L10,5 L0,10 z" }))),
    );
    for (const id of graph.nodes()) {
      const n = graph.node(id);
      if (n.kind !== "cluster" || n.width === undefined) continue;
      root.append(
        svg("rect", { class: "cluster", x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 6 }),
        svg("text", { class: "type", x: n.x - n.width / 2 + 8, y: n.y - n.height / 2 + 13, "font-size": 10, fill: "#5f6b7a" }, n.label),
      );
    }
    for (const e of graph.edges()) {
      const edge = graph.edge(e);
      if (!edge.points) continue;
      root.append(svg("path", { class: "edge " + (edge.kind || "next"), d: edgePath(edge.points), "marker-end": "url(#arrow)" }));
    }
    const nodes = {};
    for (const id of graph.nodes()) {
      const n = graph.node(id);
      if (n.kind === "terminal") {
        root.append(svg("g", { class: "terminal", transform: `translate(${n.x},${n.y})` },
          svg("circle", { r: 22 }), svg("text", { "text-anchor": "middle", dy: 4 }, n.label)));
      } else if (n.kind === "state") {
        const s = status[id] || { status: "notreached" };
        const g = svg("g", {
          class: "state " + s.status,
          "data-state": id,
          "data-status": s.status,
          transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})`,
          tabindex: 0,
          role: "button",
          "aria-label": `${id}, ${n.type} state, ${LABELS[s.status]}`,
        },
        svg("title", {}, `${id} (${n.type}): ${LABELS[s.status]}`),
        svg("rect", { width: n.width, height: n.height, rx: 6 }),
        svg("text", { x: n.width / 2, y: 19, "text-anchor": "middle" }, id),
        svg("text", { class: "type", x: n.width / 2, y: 34, "text-anchor": "middle" }, n.type));
        const select = () => {
          for (const other of root.querySelectorAll("g.state.selected")) other.classList.remove("selected");
          g.classList.add("selected");
          onSelect(id, n.type, s);
        };
        g.addEventListener("click", select);
        g.addEventListener("keydown", (ev) => {
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            select();
          }
        });
        nodes[id] = g;
        root.append(g);
      }
    }
    container.replaceChildren(root);
    return { status, nodes, labels: LABELS };
  }

  return { render, statuses, LABELS };
})();
