// Mijn kavels (municipality): publish, edit and withdraw plots; API validation errors at their fields.
"use strict";
(() => {
  const { api, all, el, num, date, table, show, alert, fieldErrors, clearErrors, KIND_NL, STATUS_NL, role, org } = HP;
  const list = document.getElementById("kavels");
  const form = document.getElementById("kavel-form");
  const message = document.getElementById("form-melding");
  const submit = document.getElementById("opslaan");
  const heading = document.getElementById("form-kop");
  const f = (name) => form.elements.namedItem(name);
  if (role === "municipality") { f("gemeente_code").value = org; f("gemeente_code").readOnly = true; }

  const map = L.map("kavel-kaart", { preferCanvas: true }).setView([52.2, 5.3], 7);
  // A municipality sees its own gemeente, outlined: sites only takes plots inside it (CBS 2025 boundary).
  fetch("/kaart/grenzen/gemeenten.geojson").then((r) => r.json()).then((g) => {
    L.geoJSON(g, { style: { color: "#888", weight: 0.5, fillOpacity: 0.1 }, interactive: false }).addTo(map);
    const own = role === "municipality" && g.features.find((x) => x.properties.statcode === org);
    if (own) map.fitBounds(L.geoJSON(own, { style: { color: "#01689b", weight: 2, fillOpacity: 0.05 }, interactive: false }).addTo(map).getBounds());
    map.getContainer().dataset.grenzen = "geladen";
  });
  let marker = null;
  function place(lat, lon) {
    if (marker) marker.setLatLng([lat, lon]); else marker = L.circleMarker([lat, lon], { radius: 8, color: "#a40000" }).addTo(map);
  }
  // A point by one click, or (with "vlak") a polygon by its corners; the point is then the corners' mean.
  let corners = [];
  let shape = null;
  const drawing = document.getElementById("f-boundary");
  const shapeNote = document.getElementById("vlak-melding");
  function setPoint(lat, lon) { f("lat").value = lat.toFixed(5); f("lon").value = lon.toFixed(5); f("rd_x").value = ""; f("rd_y").value = ""; place(lat, lon); }
  function clearShape() { corners = []; if (shape) { shape.remove(); shape = null; } shapeNote.textContent = ""; }
  document.getElementById("vlak-wissen").addEventListener("click", clearShape);
  map.on("click", (e) => {
    if (!drawing.checked) { setPoint(e.latlng.lat, e.latlng.lng); return; }
    corners.push([e.latlng.lat, e.latlng.lng]);
    if (shape) shape.setLatLngs(corners); else shape = L.polygon(corners, { color: "#a40000" }).addTo(map);
    setPoint(corners.reduce((a, c) => a + c[0], 0) / corners.length, corners.reduce((a, c) => a + c[1], 0) / corners.length);
    shapeNote.textContent = `Vlak met ${corners.length} hoekpunten${corners.length < 3 ? " (minstens 3 nodig)" : ""}.`;
  });
  const boundary = () => (corners.length >= 3 ? { type: "Polygon", coordinates: [[...corners, corners[0]].map(([lat, lon]) => [lon, lat])] } : undefined);

  const numberOrNull = (v) => (v === "" ? null : Number(v.replace(",", ".")));
  function payload(editing) {
    const body = {
      name: f("name").value, kind: f("kind").value,
      capacity_units: numberOrNull(f("capacity_units").value),
      available_from: f("available_from").value || null,
      available_until: f("available_until").value || null,
      location: f("rd_x").value || f("rd_y").value
        ? { rd_x: numberOrNull(f("rd_x").value), rd_y: numberOrNull(f("rd_y").value) }
        : { lat: numberOrNull(f("lat").value), lon: numberOrNull(f("lon").value) },
    };
    if (!editing) { body.gemeente_code = f("gemeente_code").value; body.status = "published"; }
    if (body.kind === "garantiekavel") body.garantiekavel = { cluster_id: f("cluster_id").value };
    if (boundary()) body.boundary = boundary();
    if (editing && !body.available_from) delete body.available_from;
    return body;
  }

  async function load() {
    try {
      const q = role === "municipality" ? `?municipality=${org}` : "";
      const [published, drafts] = await Promise.all([all(`/sites${q}`, 1000), all(`/sites${q}${q ? "&" : "?"}status=draft`, 1000)]);
      const rows = [...published, ...drafts];
      show(list, rows.length ? table(`${rows.length} kavels`, [
        { label: "Naam", value: (s) => s.name }, { label: "Soort", value: (s) => KIND_NL[s.kind] || s.kind },
        { label: "Status", value: (s) => STATUS_NL[s.status] || s.status },
        { label: "Vrij / capaciteit", value: (s) => `${num(s.free_units)} / ${num(s.capacity_units)}`, num: true },
        { label: "Vanaf", value: (s) => date(s.available_from) },
        { label: "Acties", value: (s) => el("span", { class: "hp-actions" },
          el("button", { type: "button", class: "utrecht-button utrecht-button--subtle", onclick: () => edit(s), "aria-label": `${s.name} bewerken` }, "Bewerken"),
          el("button", { type: "button", class: "utrecht-button utrecht-button--subtle", onclick: () => withdraw(s), "aria-label": `${s.name} intrekken` }, "Intrekken")) },
      ], rows) : el("p", { class: "utrecht-paragraph" }, "Nog geen kavels."));
      document.body.dataset.loaded = "true";
    } catch (e) { show(list, alert("fout", `Laden mislukt: ${e.message}`)); }
  }

  function edit(s) {
    clearErrors(form);
    f("id").value = s.id;
    for (const k of ["name", "kind", "capacity_units", "available_from", "gemeente_code"]) f(k).value = s[k] ?? "";
    f("available_until").value = s.available_until || "";
    f("lat").value = s.location.lat; f("lon").value = s.location.lon; f("rd_x").value = ""; f("rd_y").value = "";
    f("cluster_id").value = s.garantiekavel ? s.garantiekavel.cluster_id : "";
    place(s.location.lat, s.location.lon);
    clearShape();
    heading.textContent = `Kavel bewerken: ${s.name}`;
    submit.textContent = "Wijzigingen opslaan";
    f("name").focus();
  }

  async function withdraw(s) {
    try {
      await api("DELETE", `/sites/${s.id}`);
      show(message, alert("ok", `${s.name} is ingetrokken.`));
      load();
    } catch (e) { show(message, alert("fout", e.message)); }
  }

  form.addEventListener("reset", () => {
    clearErrors(form); clearShape(); f("id").value = ""; heading.textContent = "Kavel publiceren"; submit.textContent = "Publiceren"; show(message);
    if (role === "municipality") setTimeout(() => { f("gemeente_code").value = org; });
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = f("id").value;
    clearErrors(form);
    try {
      const site = id ? await api("PATCH", `/sites/${id}`, payload(true)) : await api("POST", "/sites", payload(false));
      show(message, alert("ok", `${site.name} is ${id ? "opgeslagen" : "gepubliceerd"}.`));
      load();
    } catch (err) {
      const rest = err.problem && err.problem.invalidParams ? fieldErrors(form, err.problem) : [];
      show(message, alert("fout", rest.length ? `${err.message} ${rest.join("; ")}` : err.problem && err.problem.invalidParams ? "Controleer de gemarkeerde velden." : err.message));
    }
  });
  load();
})();
