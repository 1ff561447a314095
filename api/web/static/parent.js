// Parent view: keeps today's figures fresh; the live images are MJPEG streams the browser plays.
"use strict";
(() => {
  const REFRESH_MS = 60000;
  async function refresh() {
    const summary = await BK.api("GET", "/api/v1/parent/summary");
    document.getElementById("violations-today").textContent = summary.violations_today;
    document.getElementById("rectified-today").textContent = summary.rectified_today;
    document.getElementById("score").textContent = summary.score;
  }
  setInterval(() => refresh().catch(() => {}), REFRESH_MS);
})();
