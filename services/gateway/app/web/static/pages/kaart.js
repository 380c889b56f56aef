// Kaart: CBS 2025 boundaries as base layer, plots by kind and free capacity, placements by end year.
"use strict";
(async () => {
  const { api, el, num, show } = HP;
  const started = performance.now();
  const status = document.getElementById("kaart-status");
  const canvas = L.canvas({ padding: 0.5 });  // one canvas for thousands of features
  const map = L.map("kaart", { preferCanvas: true, renderer: canvas, zoomSnap: 0.5, attributionControl: true }).setView([52.2, 5.3], 7.5);
  map.attributionControl.setPrefix(false).addAttribution("Grenzen: CBS/PDOK 2025");
  const KIND_COLOR = { garantiekavel: "#6a1b9a", municipal: "#00691f", private: "#0b57d0" };
  const yearColor = (y, from) => ["#8b0000", "#c0392b", "#d35400", "#b7950b", "#6e7d1e", "#2e7d32", "#1b5e7a"][Math.max(0, Math.min(6, y - from))];

  const legend = document.getElementById("legenda");
  const swatch = (color, label, square) => el("span", { style: `--swatch:${color};${square ? "--radius:0" : ""}` }, label);
  const provinceSelect = document.getElementById("provincie");
  const gemeenteInput = document.getElementById("gemeente");
  const endYearInput = document.getElementById("eindjaar");
  endYearInput.value = HP.params.get("eindjaar") || "";
  gemeenteInput.value = HP.params.get("gemeente") || "";

  const [provinces, gemeenten] = await Promise.all([
    fetch("/kaart/grenzen/provincies.geojson").then((r) => r.json()),
    fetch("/kaart/grenzen/gemeenten.geojson").then((r) => r.json()),
  ]);
  for (const f of provinces.features.slice().sort((a, b) => a.properties.statnaam.localeCompare(b.properties.statnaam))) {
    provinceSelect.append(el("option", { value: f.properties.statcode }, f.properties.statnaam));
  }
  provinceSelect.value = HP.params.get("provincie") || "";
  L.geoJSON(gemeenten, { renderer: canvas, style: { color: "#8a8a8a", weight: 0.5, fillColor: "#ffffff", fillOpacity: 0.6 }, interactive: false }).addTo(map);
  L.geoJSON(provinces, { renderer: canvas, style: { color: "#333", weight: 1.5, fill: false }, interactive: false }).addTo(map);

  const plots = L.layerGroup().addTo(map);
  const placements = L.layerGroup().addTo(map);
  L.control.layers(null, { Kavels: plots, Plaatsingen: placements }, { collapsed: false }).addTo(map);

  async function draw() {
    const t0 = performance.now();
    status.textContent = "Kavels en plaatsingen laden…";
    const q = new URLSearchParams();
    if (provinceSelect.value) q.set("province", provinceSelect.value);
    if (/^GM\d{4}$/.test(gemeenteInput.value)) q.set("municipality", gemeenteInput.value);
    const pq = new URLSearchParams();
    if (endYearInput.value) pq.set("expiringBefore", `${endYearInput.value}-12-31`);
    const [sites, homes] = await Promise.all([
      api("GET", `/map/sites.geojson?${q}`),
      api("GET", `/map/placements.geojson?${pq}`).catch(() => ({ features: [] })),
    ]);
    plots.clearLayers();
    placements.clearLayers();
    const gm = gemeenteInput.value;
    const inProvince = provinceSelect.value ? new Set(gemeenten.features.filter((f) => f.properties.statcode && provinceOf(f) === provinceSelect.value).map((f) => f.properties.statcode)) : null;
    const thisYear = new Date().getFullYear();
    let nHomes = 0;
    for (const f of homes.features) {
      const p = f.properties;
      if ((gm && p.gemeente_code !== gm) || (inProvince && !inProvince.has(p.gemeente_code))) continue;
      const [lon, lat] = f.geometry.coordinates;
      const y = Number(p.end_date.slice(0, 4));
      L.circleMarker([lat, lon], { renderer: canvas, radius: 3, weight: 0, fillOpacity: 0.8, fillColor: yearColor(y, thisYear) })
        .bindTooltip(`${num(p.units)} woningen van ${p.investor_org}, termijn tot ${p.end_date}`).addTo(placements);
      nHomes += 1;
    }
    for (const f of sites.features) {
      const p = f.properties;
      const color = KIND_COLOR[p.kind] || "#333";
      const tip = `${p.name} (${HP.KIND_NL[p.kind] || p.kind}): ${num(p.free_units)} van ${num(p.capacity_units)} vrij`;
      if (f.geometry.type === "Point") {
        const [lon, lat] = f.geometry.coordinates;
        const free = p.capacity_units ? p.free_units / p.capacity_units : 0;
        L.circleMarker([lat, lon], { renderer: canvas, radius: 4 + Math.min(8, Math.sqrt(p.free_units)), color: "#111", weight: p.kind === "garantiekavel" ? 2.5 : 1,
          dashArray: p.kind === "garantiekavel" ? "3 2" : null, fillColor: color, fillOpacity: 0.25 + 0.6 * free }).bindTooltip(tip).addTo(plots);
      } else {
        L.geoJSON(f, { renderer: canvas, style: { color, weight: 2, fillOpacity: 0.4 } }).bindTooltip(tip).addTo(plots);
      }
    }
    const ms = Math.round(performance.now() - t0);
    status.textContent = `${num(sites.features.length)} kavels en ${num(nHomes)} plaatsingen getekend.`;
    document.body.dataset.loaded = "true";
    window.hpMap = { sites: sites.features.length, placements: nHomes, drawMs: ms, interactiveMs: Math.round(performance.now() - started) };
  }

  // Gemeente → province by the CBS code table is not in the boundaries: infer from the province polygons' codes list.
  const provinceByGemeente = {};
  function provinceOf(f) { return provinceByGemeente[f.properties.statcode]; }
  try {
    const munis = await HP.all("/municipalities", 400);
    for (const m of munis) provinceByGemeente[m.code] = m.province_code;
  } catch (e) { /* the province filter then only narrows the plots */ }

  show(legend,
    swatch(KIND_COLOR.municipal, "Gemeentelijke kavel"), swatch(KIND_COLOR.private, "Particuliere kavel"), swatch(KIND_COLOR.garantiekavel, "Garantiekavel (gestippeld)"),
    ...[0, 2, 4, 6].map((i) => swatch(yearColor(thisYearPlus(i), new Date().getFullYear()), `Plaatsing eindigt ${thisYearPlus(i)}${i === 6 ? " of later" : ""}`, true)));
  function thisYearPlus(i) { return new Date().getFullYear() + i; }

  document.getElementById("filter").addEventListener("submit", (e) => { e.preventDefault(); draw().catch((err) => { status.textContent = `Laden mislukt: ${err.message}`; }); });
  await draw().catch((err) => { status.textContent = `Laden mislukt: ${err.message}`; });
})();
