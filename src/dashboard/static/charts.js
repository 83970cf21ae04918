// Draws each <figure data-chart="stacked"> from the data table it names:
// the table is the source, the chart only shows it. Stacking is done here by
// cumulative sums (uPlot draws lines/areas); the legend shows each series'
// own value. After drawing, the figure records what it plotted in
// data-plotted, so tests can compare the drawing with the store.

(() => {
  const COLORS = [
    "#1a7f37",
    "#cf222e",
    "#bf8700",
    "#8250df",
    "#0969da",
    "#bc4c00",
    "#57606a",
    "#1b7c83",
  ];

  // Columns marked data-series in the head; `skip` names one to leave out.
  function readTable(table, skip) {
    const heads = [...table.tHead.rows[0].cells].filter((c) => c.dataset.series !== undefined);
    const all = heads.map((c) => c.dataset.series);
    const xs = [];
    const columns = all.map(() => []);
    for (const row of table.tBodies[0].rows) {
      xs.push(Date.parse(`${row.dataset.day}T00:00:00Z`) / 1000);
      const values = [...row.cells].filter((c) => c.dataset.value !== undefined);
      for (const [i, cell] of values.entries()) columns[i].push(Number(cell.dataset.value));
    }
    const keep = all.map((n, i) => (n === skip ? -1 : i)).filter((i) => i >= 0);
    return {
      names: keep.map((i) => all[i]),
      colors: keep,
      xs,
      columns: keep.map((i) => columns[i]),
    };
  }

  function draw(figure) {
    const table = document.getElementById(figure.dataset.table);
    const target = figure.querySelector(".plot");
    if (!table || !target || typeof uPlot === "undefined") return;
    const { names, colors, xs, columns } = readTable(table, figure.dataset.skip);
    if (names.length === 0) return;
    // Cumulative sums, drawn top series first so each fill sits above the next.
    const stacked = [];
    let running = xs.map(() => 0);
    for (const col of columns) {
      running = running.map((v, i) => v + col[i]);
      stacked.push(running);
    }
    const order = names.map((_, i) => names.length - 1 - i);
    const series = [{ label: "Day" }].concat(
      order.map((i) => ({
        label: names[i],
        stroke: COLORS[colors[i] % COLORS.length],
        // Opaque: each lower band covers the part of the one above it that it shares.
        fill: COLORS[colors[i] % COLORS.length],
        value: (_u, _v, _s, idx) => (idx == null ? "—" : columns[i][idx].toLocaleString("en-US")),
      })),
    );
    const data = [xs].concat(order.map((i) => stacked[i]));
    const width = () => Math.max(280, target.clientWidth || figure.clientWidth || 600);
    const plot = new uPlot(
      {
        width: width(),
        height: 300,
        series,
        scales: { x: { time: true } },
        axes: [{}, { size: 60 }],
      },
      data,
      target,
    );
    window.addEventListener("resize", () => plot.setSize({ width: width(), height: 300 }));
    const sums = {};
    names.forEach((n, i) => {
      sums[n] = columns[i].reduce((a, b) => a + b, 0);
    });
    figure.dataset.plotted = JSON.stringify({ points: xs.length, sums });
  }

  function start() {
    for (const figure of document.querySelectorAll('figure[data-chart="stacked"]')) draw(figure);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
