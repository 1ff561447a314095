// Shared by the pages: JSON fetch with the CSRF token, labels in the page's language, SVG charts.
"use strict";
const BK = (() => {
  const body = document.body;
  const lang = body.dataset.lang || "zh";
  const csrf = body.dataset.csrf || "";
  const messages = JSON.parse(document.getElementById("i18n").textContent);
  const kinds = JSON.parse(document.getElementById("kind-labels").textContent);
  const SVG = "http://www.w3.org/2000/svg";

  const t = (key) => (key in messages ? messages[key] : key);
  const kind = (code) => (kinds[code] ? kinds[code][lang] : code);
  const time = (iso) => (iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en") : "");

  // 312 -> "5分12秒" / "5 min 12 s"
  function duration(seconds) {
    const total = Math.max(0, Math.round(seconds));
    const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
    if (lang === "zh") return `${h ? `${h}小时` : ""}${h || m ? `${m}分` : ""}${s}秒`;
    return [h ? `${h} h` : "", h || m ? `${m} min` : "", `${s} s`].filter(Boolean).join(" ");
  }

  // An incident's span: "ongoing" until its end arrives, then how long it lasted; and the
  // count of targets (rodents) when there can be several.
  function incident(v) {
    const span = v.ended_at ? `${t("lasted")} ${duration(v.duration_s)}` : t("ongoing");
    const count = v.max_count || v.count || 1;
    return v.kind === "rodent" || count > 1 ? `${span} · ${t("count")} ${count}` : span;
  }

  // A violation with its end (a violation_end event's data) merged in.
  const ended = (v, end) => ({ ...v, ended_at: end.ended_at, duration_s: end.duration_s, max_count: end.max_count });

  async function api(method, url, payload) {
    const init = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (payload instanceof FormData) init.body = payload;
    else if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error((data && data.detail && JSON.stringify(data.detail)) || response.statusText);
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  // A horizontal bar chart as inline SVG; each bar carries data-label and data-value.
  function barChart(container, entries, { width = 360, bar = 18, gap = 6, label = 120 } = {}) {
    const max = Math.max(1, ...entries.map((e) => e.value));
    const height = Math.max(1, entries.length) * (bar + gap);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("role", "img");
    entries.forEach((entry, index) => {
      const y = index * (bar + gap);
      const g = document.createElementNS(SVG, "g");
      g.setAttribute("class", "bar");
      g.dataset.label = entry.key || entry.label;
      g.dataset.value = String(entry.value);
      const name = document.createElementNS(SVG, "text");
      name.setAttribute("x", "0");
      name.setAttribute("y", String(y + bar - 5));
      name.textContent = entry.label;
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", String(label));
      rect.setAttribute("y", String(y));
      rect.setAttribute("height", String(bar));
      rect.setAttribute("width", String(((width - label - 40) * entry.value) / max));
      const value = document.createElementNS(SVG, "text");
      value.setAttribute("x", String(label + 4 + ((width - label - 40) * entry.value) / max));
      value.setAttribute("y", String(y + bar - 5));
      value.textContent = String(entry.value);
      g.append(name, rect, value);
      svg.append(g);
    });
    container.replaceChildren(svg);
  }

  function liveStream(onViolation, onCase, status, onEnd) {
    const source = new EventSource("/api/v1/live");
    const set = (state, key) => {
      if (!status) return;
      status.dataset.state = state;
      status.textContent = t(key);
    };
    source.addEventListener("open", () => set("open", "live"));
    source.addEventListener("error", () => set("error", "reconnecting"));
    source.addEventListener("violation", (event) => onViolation(JSON.parse(event.data)));
    if (onCase) source.addEventListener("case", (event) => onCase(JSON.parse(event.data)));
    if (onEnd) source.addEventListener("violation_end", (event) => onEnd(JSON.parse(event.data)));
    return source;
  }

  return { t, kind, time, duration, incident, ended, api, el, barChart, liveStream, lang };
})();
