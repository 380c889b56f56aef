// Prognose: homes whose term ends vs free plot capacity per quarter (and province), gap highlighted.
"use strict";
(async () => {
  const { api, el, num, table, show, alert } = HP;
  const select = document.getElementById("provincie");
  const chart = document.getElementById("grafiek");
  const tableBox = document.getElementById("tabel");
  let forecast;
  try { forecast = await api("GET", "/dashboard/forecast"); } catch (e) { show(tableBox, alert("fout", `Laden mislukt: ${e.message}`)); return; }
  const names = new Map(forecast.cells.map((c) => [c.province_code, c.province_name]));
  for (const [code, name] of [...names].sort((a, b) => a[1].localeCompare(b[1]))) select.append(el("option", { value: code }, name));

  function rows() {
    if (!select.value) return forecast.totals;
    return forecast.quarters.map((q) => forecast.cells.find((c) => c.quarter === q && c.province_code === select.value));
  }

  function svgChart(data) {
    const NS = "http://www.w3.org/2000/svg";
    const w = 960, h = 240, pad = 30, bw = (w - pad) / data.length;
    const max = Math.max(1, ...data.flatMap((r) => [r.homes_ending, r.capacity_available]));
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h + 20}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Staafdiagram van aflopende woningen en beschikbare capaciteit per kwartaal; de cijfers staan in de tabel eronder.");
    const rect = (x, y, width, height, fill) => { const r = document.createElementNS(NS, "rect"); Object.entries({ x, y, width, height, fill }).forEach(([k, v]) => r.setAttribute(k, v)); svg.append(r); };
    data.forEach((r, i) => {
      const x = pad + i * bw;
      const hh = (r.homes_ending / max) * h, hc = (r.capacity_available / max) * h;
      if (r.gap > 0) rect(x, 0, bw, h, "#fde2e2");
      rect(x + 1, h - hh, bw / 2 - 1, hh, "#1b3a6b");
      rect(x + bw / 2, h - hc, bw / 2 - 1, hc, "#7fb3e6");
      if (i % 4 === 0) { const t = document.createElementNS(NS, "text"); t.setAttribute("x", x); t.setAttribute("y", h + 15); t.setAttribute("font-size", "11"); t.textContent = r.quarter; svg.append(t); }
    });
    return svg;
  }

  function render() {
    const data = rows();
    show(chart, svgChart(data));
    const gapCls = (r) => (r.gap > 0 ? "hp-gap" : "");
    show(tableBox, table(select.value ? `Prognose ${names.get(select.value)}` : "Prognose Nederland", [
      { label: "Kwartaal", value: (r) => r.quarter },
      { label: "Aflopende woningen", value: (r) => num(r.homes_ending), num: true },
      { label: "Beschikbare capaciteit", value: (r) => num(r.capacity_available), num: true },
      { label: "Tekort", value: (r) => (r.gap > 0 ? `${num(r.gap)} (tekort)` : "0"), num: true, cls: gapCls },
      { label: "Tekort laatste run", value: (r) => num(r.shortfall_units), num: true },
    ], data));
    document.body.dataset.loaded = "true";
  }
  select.addEventListener("change", render);
  render();
})();
