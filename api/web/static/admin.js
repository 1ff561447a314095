// Administration: regions, sites, cameras, zones drawn on a snapshot, users, devices, links.
"use strict";
(() => {
  const { t, api, el } = BK;
  const $ = (id) => document.getElementById(id);
  const error = $("admin-error");
  const fail = (err) => { error.textContent = err.message; };
  const formData = (form) => Object.fromEntries(new FormData(form));
  let sites = [];
  let polygons = []; // [{code, name, polygon: [[x, y], ...]}] in 0..1
  let drawing = [];
  let snapshotFor = ""; // the preview URL the zone editor shows, without its cache-buster

  function fillSelect(select, options, blank) {
    select.replaceChildren(...(blank ? [el("option", { value: "" }, "—")] : []),
      ...options.map(([value, label]) => el("option", { value }, label)));
  }

  async function loadRegions() {
    const regions = await api("GET", "/api/v1/regions");
    $("regions").replaceChildren(...regions.map((r) => el("li", {}, `${r.code} · ${r.name}`)));
    for (const select of document.querySelectorAll(".region-select")) fillSelect(select, regions.map((r) => [String(r.id), r.name]), true);
  }

  async function loadSites() {
    sites = await api("GET", "/api/v1/sites");
    $("sites").replaceChildren(...sites.map((s) => el("li", {}, `${s.code} · ${s.name}`)));
    for (const select of document.querySelectorAll(".site-select")) fillSelect(select, sites.map((s) => [s.code, s.name]), select.name === "site" && select.form && select.form.id === "user-form");
    await loadCameras();
  }

  async function loadCameras() {
    const site = $("camera-site").value;
    if (!site) return;
    const cameras = await api("GET", `/api/v1/sites/${site}/cameras`);
    $("cameras").replaceChildren(...cameras.map((c) => el("li", { dataset: { camera: c.code } },
      `${c.code} · ${c.name} · ${c.area_type} `,
      el("label", {}, el("input", { type: "checkbox", checked: c.public, onchange: (event) =>
        api("PATCH", `/api/v1/sites/${site}/cameras/${c.code}`, { public: event.target.checked }).catch(fail) }), t("public")))));
    fillSelect($("zone-camera"), cameras.map((c) => [c.code, c.name]));
    await loadZones();
  }

  // --- zones: click to add corners on the snapshot, "create" closes the polygon -------------
  const canvas = $("zone-canvas");
  const context = canvas.getContext("2d");

  function draw() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    const path = (points, closed) => {
      context.beginPath();
      points.forEach(([x, y], index) => (index ? context.lineTo : context.moveTo).call(context, x * canvas.width, y * canvas.height));
      if (closed) context.closePath();
      context.stroke();
    };
    context.lineWidth = 2;
    context.strokeStyle = "#1b8a3a";
    for (const zone of polygons) path(zone.polygon, true);
    context.strokeStyle = "#b00020";
    path(drawing, false);
    for (const [x, y] of drawing) context.fillRect(x * canvas.width - 3, y * canvas.height - 3, 6, 6);
  }

  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
    const y = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
    drawing.push([Number(x.toFixed(4)), Number(y.toFixed(4))]);
    draw();
  });

  function showZones() {
    $("zones").replaceChildren(...polygons.map((z) => el("li", { dataset: { zone: z.code } }, `${z.code} · ${z.name} (${z.polygon.length})`)));
    draw();
  }

  async function loadZones() {
    const site = $("camera-site").value;
    const camera = $("zone-camera").value;
    if (!site || !camera) return;
    // One request per camera shown: reloading the same snapshot on every refresh of the lists
    // would abort the load in flight and redraw the picture under the corners being placed.
    const snapshot = `/api/v1/sites/${site}/cameras/${camera}/preview.jpg`;
    if (snapshotFor !== snapshot) {
      snapshotFor = snapshot;
      $("zone-snapshot").src = `${snapshot}?ts=${Date.now()}`;
    }
    polygons = (await api("GET", `/api/v1/sites/${site}/cameras/${camera}/zones`)).map((z) => ({ code: z.code, name: z.name, polygon: z.polygon }));
    drawing = [];
    showZones();
  }

  $("zone-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (drawing.length < 3) return fail(new Error("polygon: at least 3 points"));
    polygons.push({ ...formData(event.target), polygon: drawing });
    drawing = [];
    event.target.reset();
    showZones();
  });
  $("zone-clear").addEventListener("click", () => { drawing = []; draw(); });
  $("zone-save").addEventListener("click", () => {
    api("PUT", `/api/v1/sites/${$("camera-site").value}/cameras/${$("zone-camera").value}/zones`, { zones: polygons })
      .then(loadZones, fail);
  });

  async function loadUsers() {
    const users = await api("GET", "/api/v1/users");
    $("users").replaceChildren(...users.map((u) => el("li", { dataset: { user: u.username } }, `${u.username} · ${u.role} · ${u.site || u.region_id || ""}${u.disabled ? " ✗" : ""}`)));
  }

  async function loadDevices() {
    const devices = await api("GET", "/api/v1/devices");
    $("devices").replaceChildren(...devices.map((d) => el("li", {}, `${d.site}/${d.edge} · ${d.mqtt_username} `,
      el("button", { type: "button", onclick: () => api("DELETE", `/api/v1/devices/${d.id}`).then(loadDevices, fail) }, "✗"))));
  }

  async function loadLinks() {
    const links = await api("GET", "/api/v1/share-links");
    $("links").replaceChildren(...links.map((l) => el("li", {}, `${l.site} · ${l.label} · ${l.expires_at.slice(0, 10)}${l.revoked ? " ✗" : " "}`,
      l.revoked ? null : el("button", { type: "button", onclick: () => api("DELETE", `/api/v1/share-links/${l.id}`).then(loadLinks, fail) }, "✗"))));
  }

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      error.textContent = "";
      handler(event.target, formData(event.target)).catch(fail);
    });
  }

  onSubmit("region-form", async (form, data) => { await api("POST", "/api/v1/regions", data); form.reset(); await loadRegions(); });
  onSubmit("site-form", async (form, data) => {
    await api("POST", "/api/v1/sites", { ...data, region_id: data.region_id ? Number(data.region_id) : null });
    form.reset();
    await loadSites();
  });
  onSubmit("camera-form", async (form, data) => {
    await api("POST", `/api/v1/sites/${$("camera-site").value}/cameras`, { ...data, public: data.public === "on" });
    form.reset();
    await loadCameras();
  });
  onSubmit("user-form", async (form, data) => {
    await api("POST", "/api/v1/users", {
      username: data.username, password: data.password, role: data.role,
      region_id: data.role === "supervisor" && data.region_id ? Number(data.region_id) : null,
      site: data.role === "staff" ? data.site : null,
    });
    form.reset();
    await loadUsers();
  });
  onSubmit("device-form", async (form, data) => {
    const issued = await api("POST", `/api/v1/sites/${data.site}/devices`, { edge: data.edge });
    $("device-secret").hidden = false;
    $("device-secret").textContent = `HTTP token: ${issued.http_token}\nMQTT: ${issued.mqtt_username} / ${issued.mqtt_password}`;
    form.reset();
    await loadDevices();
  });
  onSubmit("link-form", async (form, data) => {
    const issued = await api("POST", `/api/v1/sites/${data.site}/share-links`, { label: data.label, valid_days: Number(data.valid_days) });
    $("link-issued").hidden = false;
    $("link-url").href = issued.url;
    $("link-url").textContent = issued.url;
    $("link-qr").src = "data:image/svg+xml;base64," + btoa(issued.qr_svg);
    form.reset();
    await loadLinks();
  });
  $("camera-site").addEventListener("change", () => loadCameras().catch(fail));
  $("zone-camera").addEventListener("change", () => loadZones().catch(fail));

  Promise.all([loadRegions(), loadSites(), loadUsers(), loadDevices(), loadLinks()]).catch(fail);
})();
