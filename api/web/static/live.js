// Live violation list: rows arrive over Server-Sent Events and are prepended without a reload.
"use strict";
(() => {
  const MAX_ROWS = 500;
  const HIGHLIGHT_MS = 4000;
  const labels = JSON.parse(document.getElementById("kind-labels").textContent);
  const body = document.getElementById("violations-body");
  const empty = document.getElementById("empty");
  const status = document.getElementById("live-status");

  const formatTime = (iso) => new Date(iso).toLocaleString();

  function cell(row, text, extraEnglish) {
    const td = document.createElement("td");
    td.textContent = text;
    if (extraEnglish) {
      const en = document.createElement("span");
      en.className = "en";
      en.textContent = extraEnglish;
      td.append(" ", en);
    }
    row.append(td);
    return td;
  }

  function makeRow(v) {
    const row = document.createElement("tr");
    row.dataset.violationId = v.violation_id;
    row.className = "severity-" + v.severity;
    const time = document.createElement("time");
    time.dateTime = v.occurred_at;
    time.textContent = formatTime(v.occurred_at);
    cell(row, "").append(time);
    cell(row, v.site);
    cell(row, v.camera);
    const label = labels[v.kind] || { zh: v.kind, en: v.kind };
    cell(row, label.zh, label.en);
    cell(row, String(v.severity));
    cell(row, Math.round(v.confidence * 100) + "%");
    return row;
  }

  const has = (id) => body.querySelector(`tr[data-violation-id="${CSS.escape(id)}"]`) !== null;

  function add(v, highlight) {
    if (has(v.violation_id)) return;
    const row = makeRow(v);
    // newest first: before the first row that happened earlier (a live event lands on top)
    const at = Date.parse(v.occurred_at);
    const next = Array.from(body.rows).find((r) => Date.parse(r.querySelector("time").dateTime) <= at);
    body.insertBefore(row, next || null);
    empty.hidden = true;
    if (highlight) {
      row.classList.add("new");
      setTimeout(() => row.classList.remove("new"), HIGHLIGHT_MS);
    }
    while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  }

  function setStatus(state, zh, en) {
    status.dataset.state = state;
    status.textContent = zh + " ";
    const span = document.createElement("span");
    span.className = "en";
    span.textContent = en;
    status.append(span);
  }

  // Catch up on what arrived while (re)connecting: the stream carries only what comes next.
  async function catchUp() {
    const response = await fetch("/api/v1/violations", { credentials: "same-origin" });
    if (!response.ok) return;
    const page = await response.json();
    for (const v of page.items) add(v, false);
  }


  const source = new EventSource("/api/v1/live");
  source.addEventListener("open", () => {
    setStatus("open", "实时", "Live");
    catchUp().catch(() => {});
  });
  source.addEventListener("error", () => setStatus("error", "已断开，重连中", "Reconnecting"));
  source.addEventListener("violation", (event) => add(JSON.parse(event.data), true));
})();
