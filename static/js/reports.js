// Report pages: draw each <canvas data-chart> with Chart.js (the same figures are in the table
// that follows it), and the print button of the engagement summary. Progressive enhancement:
// without this file the tables carry every figure.
(() => {
  "use strict";
  // Colour-blind-safe palette (Okabe–Ito), dark enough for text contrast on white.
  const PALETTE = ["#0b3a63", "#d55e00", "#009e73", "#cc79a7", "#0072b2", "#e69f00"];

  function draw(canvas) {
    let spec;
    try {
      spec = JSON.parse(canvas.dataset.chart);
    } catch (error) {
      return;
    }
    if (!spec.labels || !spec.labels.length) { return; }
    const horizontal = spec.labels.length > 6;
    const stacked = Boolean(spec.stacked);
    // Height grows with the number of bars; Chart.js keeps this ratio (no CSS needed).
    const aspectRatio = horizontal ? Math.max(0.6, 2.2 - spec.labels.length * 0.08) : 1.8;
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((series, i) => ({
          label: series.label,
          data: series.values,
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        locale: document.documentElement.lang || undefined, // axis numbers in the page's language
        aspectRatio,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        plugins: { legend: { display: spec.series.length > 1 } },
        scales: {
          x: { stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (window.Chart) {
      document.querySelectorAll("canvas[data-chart]").forEach(draw);
    }
    document.querySelectorAll("button[data-print]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => window.print());
    });
  });
})();
