// Two small SVG charts over time: bars (Insights histogram) and points (run durations).
"use strict";

const byChart = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 900;
  const H = 260;
  const M = { top: 12, right: 16, bottom: 34, left: 64 };

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  // The top of the y axis: four equal steps of 1, 2 or 5 times a power of ten.
  function niceMax(value, integer) {
    if (value <= 0) return 4;
    const raw = integer ? Math.max(1, value / 4) : value / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const step of [1, 2, 5, 10]) if (step * power >= raw) return 4 * step * power;
    return 40 * power;
  }

  function timeLabel(ms, span) {
    const iso = new Date(ms).toISOString();
    if (span > 2 * 86400e3) return iso.slice(5, 16).replace("T", " ");
    return iso.slice(11, span > 3600e3 ? 16 : 19);
  }

  function frame(t0, t1, yMax, yFormat, title) {
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
    root.append(svg("title", {}, title));
    const x = (t) => M.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - M.left - M.right);
    const y = (v) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
    const axis = svg("g", { class: "axis" });
    const grid = svg("g", { class: "grid" });
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      grid.append(svg("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      axis.append(svg("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, yFormat(v)));
    }
    for (let i = 0; i <= 5; i++) {
      const t = t0 + ((t1 - t0) * i) / 5;
      const anchor = i === 0 ? "start" : i === 5 ? "end" : "middle";
      axis.append(svg("text", { x: x(t), y: H - M.bottom + 18, "text-anchor": anchor }, timeLabel(t, t1 - t0)));
    }
    axis.append(svg("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
    root.append(grid, axis);
    return { root, x, y };
  }

  // bins: [{t: ms, count}], binMs: width of a bin
  function bars(container, bins, binMs, t0, t1, title, onPick) {
    const yMax = niceMax(Math.max(0, ...bins.map((b) => b.count)), true);
    const { root, x, y } = frame(t0, t1, yMax, (v) => String(Math.round(v)), title);
    const width = Math.max(1, x(t0 + binMs) - x(t0) - 1);
    for (const b of bins) {
      const bar = svg("rect", { class: "bar", x: x(b.t), y: y(b.count), width, height: Math.max(0, y(0) - y(b.count)) },
        svg("title", {}, `${new Date(b.t).toISOString()}: ${b.count} events`));
      if (onPick) {
        bar.setAttribute("tabindex", "0");
        bar.setAttribute("role", "button");
        bar.setAttribute("aria-label", `${b.count} events from ${new Date(b.t).toISOString()}; show only these`);
        bar.addEventListener("click", () => onPick(b));
        bar.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onPick(b); });
      }
      root.append(bar);
    }
    container.replaceChildren(root);
  }

  // points: [{t: ms, value, status, label, href}]
  function points(container, items, yFormat, title) {
    if (!items.length) {
      container.replaceChildren();
      return;
    }
    const ts = items.map((p) => p.t);
    let t0 = Math.min(...ts);
    let t1 = Math.max(...ts);
    if (t1 - t0 < 60e3) {
      t0 -= 30e3;
      t1 += 30e3;
    }
    const yMax = niceMax(Math.max(...items.map((p) => p.value)));
    const { root, x, y } = frame(t0, t1, yMax, yFormat, title);
    root.append(svg("path", { class: "line", d: items.map((p, i) => `${i ? "L" : "M"}${x(p.t)},${y(p.value)}`).join(" ") }));
    for (const p of items) {
      const dot = svg("circle", { class: "point " + p.status, cx: x(p.t), cy: y(p.value), r: 4.5 }, svg("title", {}, p.label));
      root.append(p.href ? svg("a", { href: p.href }, dot) : dot);
    }
    container.replaceChildren(root);
  }

  return { bars, points };
})();
