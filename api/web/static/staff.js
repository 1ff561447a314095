// Staff console: open cases of the site, new alerts live with a sound and a flash, acknowledge,
// rectify with a note and a photo.
"use strict";
(() => {
  const { t, kind, time, incident, ended, api, el } = BK;
  const cases = document.getElementById("cases");
  const empty = document.getElementById("empty");
  const banner = document.getElementById("alert-banner");
  const known = new Map(); // violation_id -> the violation as last rendered
  let audio = null;

  document.getElementById("sound-on").addEventListener("click", (event) => {
    audio = audio || new AudioContext();
    audio.resume();
    event.target.dataset.on = "true";
  });

  function beep() {
    if (!audio) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.6);
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  }

  function actions(v) {
    const box = el("div", { class: "actions" });
    const fail = (err) => box.append(el("p", { class: "error", role: "alert" }, String(err.message)));
    if (v.state === "new") {
      box.append(
        el("button", {
          type: "button",
          class: "acknowledge",
          onclick: () => api("POST", `/api/v1/violations/${v.violation_id}/acknowledge`).then(render, fail),
        }, t("acknowledge")),
      );
    }
    if (v.state === "acknowledged") {
      const form = el(
        "form",
        { class: "rectify" },
        el("label", {}, t("note"), el("textarea", { name: "note", required: true })),
        el("label", {}, t("photo"), el("input", { type: "file", name: "photo", accept: "image/jpeg,image/png", required: true })),
        el("button", { type: "submit" }, t("rectify")),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        api("POST", `/api/v1/violations/${v.violation_id}/rectify`, new FormData(form)).then(render, fail);
      });
      box.append(form);
    }
    return box;
  }

  function card(v) {
    const snapshot = v.has_snapshot
      ? el("img", { class: "snapshot", src: `/api/v1/violations/${v.violation_id}/snapshot`, alt: t("snapshot") })
      : null;
    return el(
      "article",
      { class: `case severity-${v.severity} escalation-${v.escalation}`, dataset: { violationId: v.violation_id, state: v.state } },
      el("h3", {}, kind(v.kind), " ", el("span", { class: "state" }, t(v.state))),
      el("p", {}, `${t("camera")}: ${v.camera} · ${time(v.occurred_at)}`),
      el("p", { class: "incident", dataset: { ongoing: String(!v.ended_at) } }, incident(v)),
      el("p", { class: "deadline" }, `${t("deadline")}: ${time(v.deadline_at)} ${t(v.escalation)}`),
      snapshot,
      actions(v),
    );
  }

  function render(v) {
    const previous = known.get(v.violation_id);
    // a case event carries the stored row; an end that arrived first is kept either way
    if (previous && previous.ended_at && !v.ended_at) v = ended(v, previous);
    known.set(v.violation_id, v);
    const existing = cases.querySelector(`[data-violation-id="${CSS.escape(v.violation_id)}"]`);
    const fresh = card(v);
    if (existing) existing.replaceWith(fresh);
    else cases.prepend(fresh);
    empty.hidden = cases.children.length > 0;
    return fresh;
  }

  function alertNew(v) {
    const node = render(v);
    node.classList.add("new");
    banner.hidden = false;
    banner.textContent = `${kind(v.kind)} · ${v.camera}`;
    beep();
  }

  async function load() {
    cases.setAttribute("aria-busy", "true");
    try {
      const page = await api("GET", "/api/v1/violations?state=new&state=acknowledged&state=rectified&limit=100");
      // A case already shown was pushed live while this answer was on its way: it is the newer.
      for (const v of page.items.reverse()) if (!known.has(v.violation_id)) render(v);
    } finally {
      cases.setAttribute("aria-busy", "false");
    }
  }

  function endOf(end) {
    const v = known.get(end.violation_id);
    if (v) render(ended(v, end));
  }

  BK.liveStream(alertNew, render, document.getElementById("live-status"), endOf);
  load().catch(() => {});
})();
