// Shared helpers for the console pages: JSON calls, element building, time formatting.
"use strict";

const by = {
  async get(path, params) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
    return by.answer(await fetch(url, { headers: { accept: "application/json" } }));
  },

  async send(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "content-type": "application/json", "x-batchyard-console": "1" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return by.answer(response);
  },

  async answer(response) {
    if (response.status === 401) {
      location.href = "/ui/signin?next=" + encodeURIComponent(location.pathname + location.search);
      throw new by.ApiError("NotSignedIn", "Sign in to the console first.", 401);
    }
    let data;
    try {
      data = await response.json();
    } catch (error) {
      throw new by.ApiError("HTTP " + response.status, response.statusText || "The server's answer is not JSON.", response.status);
    }
    if (!response.ok) throw new by.ApiError(data.error, data.message, response.status);
    // A component this server does not run answers 200 {unavailable: true, message}.
    if (data.unavailable) throw new by.ApiError("NotAvailable", data.message, 503);
    return data;
  },

  ApiError: class extends Error {
    constructor(code, message, status) {
      super(message || code);
      this.code = code;
      this.status = status;
    }
  },

  // el("td", {class: "num"}, "text", childNode, ...)
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  },

  badge(status) {
    return by.el("span", { class: "badge " + status }, status);
  },

  // A notice above the content: info, or error (role=status region in every template).
  notice(text, isError) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text || "";
    box.classList.toggle("error", Boolean(isError));
  },

  // A page section for a component this server does not run.
  unavailable(error) {
    if (error && error.status === 503) {
      by.notice(error.message, false);
      return true;
    }
    by.notice(error ? error.message : "Request failed", true);
    return false;
  },

  emptyRow(tbody, columns, text) {
    tbody.replaceChildren(by.el("tr", { class: "empty" }, by.el("td", { colspan: columns }, text)));
  },

  time(value) {
    if (value === undefined || value === null || value === "") return "";
    const d = typeof value === "number" ? new Date(value) : new Date(value);
    if (isNaN(d)) return String(value);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  },

  duration(ms) {
    if (ms === undefined || ms === null || isNaN(ms)) return "";
    if (ms < 10) return (Math.round(ms * 10) / 10) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + Math.round(s - m * 60) + " s";
    const h = Math.floor(m / 60);
    return h + " h " + (m - h * 60) + " min";
  },

  pretty(text) {
    if (text === undefined || text === null) return "";
    try {
      return JSON.stringify(typeof text === "string" ? JSON.parse(text) : text, null, 2);
    } catch (e) {
      return String(text);
    }
  },

  lastPart(arn) {
    return String(arn || "").split(/[:/]/).pop();
  },
};
