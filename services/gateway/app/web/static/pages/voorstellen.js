// Voorstellen: the proposal queue for the caller's role; detail with the explanation; accept/decline.
"use strict";
(() => {
  const { api, all, el, num, eur, date, table, show, alert, role, org, STATUS_NL } = HP;
  const list = document.getElementById("lijst");
  const detail = document.getElementById("detail");
  const filter = document.getElementById("filter");
  const statusSelect = document.getElementById("status");
  statusSelect.value = HP.params.get("status") || "";
  let selected = null;
  let poll = null;

  async function loadList() {
    show(list, el("p", { class: "utrecht-paragraph" }, "Laden…"));
    try {
      const status = statusSelect.value;
      const rows = await all(`/proposals${status ? "?status=" + status : ""}`, 500);
      show(list, rows.length ? table(`${rows.length} voorstellen`, [
        { label: "Voorstel", value: (p) => el("button", { class: "utrecht-button utrecht-button--subtle", type: "button", "data-id": p.id, onclick: () => openDetail(p.id) }, `Bekijk ${p.id.slice(0, 8)}`) },
        { label: "Status", value: (p) => el("span", { class: "hp-status", "data-status": p.status }, STATUS_NL[p.status] || p.status) },
        { label: "Investeerder", value: (p) => p.investor_org },
        { label: "Woningen", value: (p) => num(p.unit_count), num: true },
        { label: "Trede", value: (p) => p.rung },
        { label: "Verloopt", value: (p) => date(p.expires_at) },
      ], rows, (p) => ({ "data-proposal": p.id, class: p.id === selected ? "hp-selected" : null })) : el("p", { class: "utrecht-paragraph" }, "Geen voorstellen."));
      document.body.dataset.loaded = "true";
    } catch (e) { show(list, alert("fout", `Laden mislukt: ${e.message}`)); }
  }

  // The cost terms in Dutch, EUR where they are euros; a term the API adds later shows under its own name.
  const COST_NL = {
    total: ["Totaal", eur], transport: ["Transport", eur], transport_unit_km: ["Transport (woning-km)", num],
    readiness: ["Bouwrijp maken en nutsvoorzieningen", eur], storage: ["Opslag", eur], storage_months: ["Opslagmaanden", num],
    split: ["Splitsing over kavels", eur], splits: ["Extra kavels (splitsingen)", num],
    site_factors: ["Locatiefactoren (geluid, water)", eur],
    min_group: ["Delen onder de minimale groepsgrootte", eur], min_group_violations: ["Aantal delen onder de minimale groep", num],
    ladder: ["Herplaatsingsladder (prioriteitspunten)", num], weights_version: ["Versie van de gewichten", num],
  };
  function kv(obj) {
    return el("dl", { class: "hp-dl" }, Object.entries(obj || {}).flatMap(([k, v]) => {
      const [label, format] = COST_NL[k] || [k, num];
      return [el("dt", {}, label), el("dd", {}, typeof v === "number" ? format(Math.round(v * 100) / 100) : typeof v === "object" ? JSON.stringify(v) : String(v))];
    }));
  }

  function myParty(p) {
    if (role === "investor") return p.parties.find((x) => x.role === "investor" && x.org === org);
    if (role === "municipality") return p.parties.find((x) => x.role === "municipality" && x.org === org);
    return null;
  }

  function renderDetail(p, message) {
    const mine = myParty(p);
    const canAnswer = mine && !mine.accepted && (p.status === "pending" || p.status === "accepted");
    const reasonId = "reden";
    // While the outcome is polled the detail re-renders: the drawn map moves along instead of being redrawn.
    const mapBox = (detailMap && document.getElementById("voorstel-kaart")) ||
      el("div", { id: "voorstel-kaart", class: "hp-map hp-map--small", role: "region", "aria-label": "Kaart: van de huidige plek naar de voorgestelde kavels" });
    const actions = canAnswer ? el("form", { class: "hp-answer", onsubmit: (e) => e.preventDefault() },
      el("div", { class: "utrecht-form-field" }, el("label", { class: "utrecht-form-label", for: reasonId }, "Reden (verplicht bij afwijzen)"),
        el("textarea", { class: "utrecht-textarea", id: reasonId, rows: "2" })),
      el("div", { class: "hp-actions" },
        el("button", { class: "utrecht-button utrecht-button--primary-action", type: "button", id: "accepteren", onclick: () => answer(p.id, "accept") }, "Accepteren"),
        el("button", { class: "utrecht-button utrecht-button--secondary-action", type: "button", id: "afwijzen", onclick: () => answer(p.id, "decline") }, "Afwijzen"))) : null;
    // Re-rendering removes the focused button: the focus then goes to the outcome, not to <body>.
    const focusInside = detail.contains(document.activeElement) && document.activeElement !== detail;
    show(detail,
      el("h2", { class: "utrecht-heading-2", id: "detail-kop" }, `Voorstel ${p.id.slice(0, 8)}`),
      el("div", { "aria-live": "polite", id: "uitkomst", tabindex: "-1" }, message || null),
      el("dl", { class: "hp-dl" },
        el("dt", {}, "Status"), el("dd", {}, el("span", { class: "hp-status", id: "detail-status", "data-status": p.status }, STATUS_NL[p.status] || p.status)),
        el("dt", {}, "Investeerder"), el("dd", {}, p.investor_org),
        el("dt", {}, "Woningen"), el("dd", {}, num(p.unit_count)),
        el("dt", {}, "Trede (rung)"), el("dd", {}, p.rung),
        el("dt", {}, "Verhuisvenster vanaf"), el("dd", {}, date(p.move_window_start)),
        el("dt", {}, "Verloopt"), el("dd", {}, date(p.expires_at)),
        el("dt", {}, "Partijen"), el("dd", {}, p.parties.map((x) => `${x.role} ${x.org}: ${x.accepted ? "akkoord" : "nog niet"}`).join("; ")),
        p.reason ? [el("dt", {}, "Reden"), el("dd", {}, p.reason)] : null),
      el("h3", { class: "utrecht-heading-3" }, "Toewijzing"),
      table("Kavels in dit voorstel", [
        { label: "Kavel", value: (a) => a.site_id.slice(0, 8) },
        { label: "Gemeente", value: (a) => a.gemeente_code },
        { label: "Woningen", value: (a) => num(a.units), num: true },
        { label: "Afstand (km)", value: (a) => num(Math.round(a.distance_km)), num: true },
        { label: "Trede", value: (a) => a.rung },
      ], p.allocations),
      mapBox,
      el("h3", { class: "utrecht-heading-3" }, "Kostentermen"), kv(p.cost),
      el("h3", { class: "utrecht-heading-3" }, "Bindende beperkingen"),
      p.binding_constraints.length ? el("ul", {}, p.binding_constraints.map((c) => el("li", {}, c))) : el("p", { class: "utrecht-paragraph" }, "Geen."),
      el("h3", { class: "utrecht-heading-3" }, "Alternatieven"),
      p.alternatives.length ? el("ol", {}, p.alternatives.map((a) => el("li", {},
        `${num(a.housed_units)} woningen, ${eur(a.cost_total)}: ` +
        a.allocations.map((x) => `${num(x.units)} in ${x.gemeente_code} (${x.rung}, ${num(Math.round(x.distance_km))} km)`).join("; ")))) : el("p", { class: "utrecht-paragraph" }, "Geen."),
      actions);
    if (focusInside && !detail.contains(document.activeElement)) document.getElementById("uitkomst").focus();
  }

  // The allocations as lines from the homes' current place to each proposed plot.
  let detailMap = null;
  async function drawAllocations(p) {
    if (detailMap) { detailMap.remove(); detailMap = null; }
    const box = document.getElementById("voorstel-kaart");
    if (!box || !window.L) return;
    detailMap = L.map(box, { preferCanvas: true }).setView([52.2, 5.3], 7);
    const m = detailMap;
    HP.tiles(m);
    fetch("/kaart/grenzen/provincies.geojson").then((r) => r.json())
      .then((g) => { if (detailMap === m) L.geoJSON(g, { style: { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.6 }, interactive: false }).addTo(m).bringToBack(); });
    const [from, sites] = await Promise.all([
      api("GET", `/placements/${p.placement_id}`).catch(() => null),  // a municipality may not see the current place
      Promise.all(p.allocations.map((a) => api("GET", `/sites/${a.site_id}`).catch(() => null))),
    ]);
    const points = [];
    if (from) { L.circleMarker([from.lat, from.lon], { radius: 7, color: "#8b0000" }).bindTooltip("Huidige plek").addTo(detailMap); points.push([from.lat, from.lon]); }
    for (const site of sites.filter(Boolean)) {
      const to = [site.location.lat, site.location.lon];
      L.circleMarker(to, { radius: 7, color: "#00691f" }).bindTooltip(site.name).addTo(detailMap);
      if (from) L.polyline([[from.lat, from.lon], to], { color: "#1b3a6b", weight: 3 }).addTo(detailMap);
      points.push(to);
    }
    if (points.length) detailMap.fitBounds(points, { padding: [30, 30], maxZoom: 11 });
  }

  async function openDetail(id) {
    selected = id;
    clearInterval(poll);
    try {
      const p = await api("GET", `/proposals/${id}`);
      renderDetail(p);
      drawAllocations(p);
      list.querySelectorAll("tr[data-proposal]").forEach((tr) => tr.classList.toggle("hp-selected", tr.dataset.proposal === id));
      detail.focus();
    } catch (e) { show(detail, alert("fout", `Laden mislukt: ${e.message}`)); }
  }

  // The outcome comes from the services' events: poll until the proposal leaves its state.
  function watch(id, from) {
    clearInterval(poll);
    let tries = 0;
    poll = setInterval(async () => {
      tries += 1;
      const p = await api("GET", `/proposals/${id}`).catch(() => null);
      if (!p) return;
      if (p.status !== from || tries > 60) {
        clearInterval(poll);
        renderDetail(p, alert(p.status === "reserved" || p.status === "scheduled" ? "ok" : "waarschuwing", `Uitkomst: ${STATUS_NL[p.status] || p.status}.`));
        loadList();
      } else {
        renderDetail(p, alert("ok", "Uw antwoord is ontvangen; wacht op de andere partij of de reservering…"));
      }
    }, 1000);
  }

  async function answer(id, action) {
    const reason = document.getElementById("reden").value.trim();
    try {
      const p = await api("POST", `/proposals/${id}/${action}`, action === "decline" ? { reason: reason || null } : undefined);
      renderDetail(p, alert("ok", action === "accept" ? "Geaccepteerd. De uitkomst verschijnt hier vanzelf." : "Afgewezen."));
      if (p.status === "pending" || p.status === "accepted") watch(id, p.status);  // a decline is final
      loadList();
    } catch (e) {
      document.getElementById("uitkomst").replaceChildren(alert("fout", e.message));
      document.getElementById(action === "decline" ? "reden" : "uitkomst").focus();  // e.g. a reason is missing
    }
  }

  filter.addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
  loadList();
  if (HP.params.get("id")) openDetail(HP.params.get("id"));
})();
