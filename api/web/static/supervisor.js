// Supervisor console: the review queue with filters, one case with clip, snapshot and history,
// the review actions, and charts that follow every change.
"use strict";
(() => {
  const { t, kind, time, incident, ended, api, el, barChart } = BK;
  const body = document.getElementById("violations-body");
  const empty = document.getElementById("empty");
  const detail = document.getElementById("detail");
  const filters = document.getElementById("filters");
  const STATES = ["new", "acknowledged", "rectified", "verified", "dismissed"];
  const known = new Map(); // violation_id -> the violation as last shown
  let selected = null;

  function query() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(filters)) if (value) params.append(name, value);
    params.set("limit", "200");
    return params;
  }

  function matches(v) {
    const params = query();
    for (const name of ["site", "state", "kind", "escalation"]) {
      const wanted = params.get(name);
      if (wanted && v[name] !== wanted) return false;
    }
    return true;
  }

  function row(v) {
    const previous = known.get(v.violation_id);
    if (previous && previous.ended_at && !v.ended_at) v = ended(v, previous);
    known.set(v.violation_id, v);
    return el(
      "tr",
      {
        class: `severity-${v.severity} escalation-${v.escalation}`,
        dataset: { violationId: v.violation_id, state: v.state },
        onclick: () => open(v.violation_id),
      },
      el("td", {}, el("time", { datetime: v.occurred_at }, time(v.occurred_at))),
      el("td", {}, v.site),
      el("td", {}, v.camera),
      el("td", {}, kind(v.kind)),
      el("td", {}, String(v.severity)),
      el("td", {}, `${Math.round(v.confidence * 100)}%`),
      el("td", { class: "state" }, t(v.state)),
      el("td", { class: "escalation" }, t(v.escalation)),
      el("td", { class: "incident", dataset: { ongoing: String(!v.ended_at) } }, incident(v)),
    );
  }

  function upsert(v, highlight) {
    const existing = body.querySelector(`tr[data-violation-id="${CSS.escape(v.violation_id)}"]`);
    if (!matches(v)) {
      if (existing) existing.remove();
    } else if (existing) existing.replaceWith(row(v));
    else {
      const fresh = row(v);
      body.prepend(fresh);
      if (highlight) fresh.classList.add("new");
    }
    empty.hidden = body.rows.length > 0;
  }

  // Violations pushed live while the queue loads: the answer may predate them, and replacing the
  // rows with it would drop an alert until the next reload.
  let loads = 0;
  let arrivals = [];

  async function loadQueue() {
    loads += 1;
    body.setAttribute("aria-busy", "true");
    try {
      const page = await api("GET", `/api/v1/violations?${query()}`);
      const listed = new Set(page.items.map((v) => v.violation_id));
      const missed = arrivals.filter((v) => !listed.has(v.violation_id));
      body.replaceChildren(...page.items.map(row));
      for (const v of missed) upsert(v, true);
      empty.hidden = body.rows.length > 0;
    } finally {
      loads -= 1;
      if (!loads) {
        arrivals = [];
        body.setAttribute("aria-busy", "false");
      }
    }
  }

  function arrived(v) {
    if (loads) arrivals.push(v);
    upsert(v, true);
    loadCharts().catch(() => {});
  }

  async function loadCharts() {
    const stats = await api("GET", "/api/v1/stats?days=14");
    barChart(document.getElementById("chart-day"), stats.days.map((d) => ({ key: d.day, label: d.day.slice(5), value: d.count })));
    barChart(document.getElementById("chart-kind"), stats.per_kind.map((k) => ({ key: k.kind, label: kind(k.kind), value: k.count })));
    barChart(document.getElementById("chart-site"), stats.per_site.map((s) => ({ key: s.site, label: s.site, value: s.count })));
    barChart(document.getElementById("chart-score"), stats.per_site.map((s) => ({ key: s.site, label: s.site, value: s.score })));
    barChart(document.getElementById("chart-state"), STATES.map((s) => ({ key: s, label: t(s), value: stats.by_state[s] || 0 })));
  }

  function actionButton(action, label, path, needs) {
    return el("button", {
      type: "button",
      class: `action-${action}`,
      onclick: async () => {
        const note = detail.querySelector("#action-note").value;
        const payload = needs === "deadline"
          ? { deadline_at: new Date(detail.querySelector("#deadline-at").value).toISOString(), note: note || null }
          : { note: note || null };
        try {
          const v = await api("POST", `/api/v1/violations/${selected}/${path}`, payload);
          upsert(v, false);
          await open(selected);
          await loadCharts();
        } catch (err) {
          detail.querySelector(".action-error").textContent = err.message;
        }
      },
    }, label);
  }

  async function open(id) {
    selected = id;
    const data = await api("GET", `/api/v1/violations/${id}/case`);
    const v = data.violation;
    const files = Object.fromEntries(data.evidence.filter((e) => e.kind !== "photo").map((e) => [e.kind, e.url]));
    const photos = data.evidence.filter((e) => e.kind === "photo");
    detail.hidden = false;
    detail.dataset.violationId = id;
    detail.dataset.state = v.state;
    detail.replaceChildren(
      el("h2", {}, `${kind(v.kind)} · ${v.site} / ${v.camera}`),
      el("p", { class: "state" }, `${t("state")}: ${t(v.state)} · ${t("deadline")}: ${time(v.deadline_at)} ${t(v.escalation)}`),
      el("p", { class: "incident", dataset: { ongoing: String(!v.ended_at) } }, incident(v)),
      files.clip ? el("video", { id: "clip", src: files.clip, controls: true, muted: true, preload: "auto", playsinline: true }) : null,
      files.snapshot ? el("img", { id: "snapshot", src: files.snapshot, alt: t("snapshot") }) : null,
      ...photos.map((p) => el("img", { class: "photo", src: p.url, alt: t("photo") })),
      el("label", {}, t("note"), el("input", { id: "action-note", maxlength: "2000" })),
      el("label", {}, t("deadline"), el("input", { id: "deadline-at", type: "datetime-local" })),
      el(
        "div",
        { class: "actions" },
        actionButton("confirm", t("confirm"), "confirm"),
        actionButton("dismiss", t("dismiss"), "dismiss"),
        actionButton("deadline", t("set_deadline"), "deadline", "deadline"),
        actionButton("verify", t("verify"), "verify"),
        actionButton("send-back", t("send_back"), "send-back"),
      ),
      el("p", { class: "action-error error", role: "alert" }),
      el("h3", {}, t("history")),
      el("ol", { class: "history" }, ...data.transitions.map((s) =>
        el("li", {}, `${time(s.at)} ${s.actor}: ${t(s.from_state)} → ${t(s.to_state)}${s.note ? " · " + s.note : ""}`))),
    );
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    loadQueue().catch(() => {});
  });
  function endOf(end) {
    const v = known.get(end.violation_id);
    if (v) upsert(ended(v, end), false);
    if (selected === end.violation_id) open(selected).catch(() => {});
  }

  BK.liveStream(
    arrived,
    (v) => upsert(v, false),
    document.getElementById("live-status"),
    endOf,
  );
  loadQueue().catch(() => {});
  loadCharts().catch(() => {});
})();
