// Landelijke run (marktmeester): a dry-run shows plan, shortfall and what would change; "Bindend maken" creates the proposals.
"use strict";
(() => {
  const { api, all, el, num, table, show, alert, date } = HP;
  const result = document.getElementById("resultaat");
  const runs = document.getElementById("runs");
  const dry = document.getElementById("proefrun");
  const binding = document.getElementById("bindend");
  const short = (id) => String(id).slice(0, 8);
  const plots = (allocs) => allocs.map((a) => `${a.gemeente_code} ${short(a.site_id)}: ${num(a.units)}`).join("; ");
  // Same plots with the same units: the plan would offer what is pending already.
  const signature = (allocs) => allocs.map((a) => `${a.site_id}:${a.units}`).sort().join(",");

  function render(run) {
    const plan = run.plan || [];
    show(result,
      alert("ok", `${run.mode === "binding" ? "Bindende run" : "Proefrun"}: ${num(run.housed_units)} van ${num(run.demand_units)} woningen geplaatst, tekort ${num(run.shortfall_units)}, ${num(run.proposals_created)} voorstellen aangemaakt (${run.wall_time_s.toFixed(1)} s).`),
      el("section", { id: "wijzigingen", "aria-labelledby": "wijzigingen-kop" }),
      plan.length
        ? table(`Plan (${plan.length} regels${plan.length > 50 ? ", eerste 50" : ""})`, [
          { label: "Plaatsing", value: (r) => short(r.placement_id) }, { label: "Kavel", value: (r) => short(r.site_id) },
          { label: "Gemeente", value: (r) => r.gemeente_code }, { label: "Woningen", value: (r) => num(r.units), num: true },
          { label: "Trede", value: (r) => r.rung }, { label: "Afstand (km)", value: (r) => num(Math.round(r.distance_km)), num: true },
        ], plan.slice(0, 50))
        : el("p", { class: "utrecht-paragraph" }, "Het plan is leeg: er is geen open vraag zonder voorstel."),
      run.shortfall.length
        ? table("Tekort per kwartaal en provincie", [
          { label: "Kwartaal", value: (r) => r.quarter }, { label: "Provincie", value: (r) => r.province_code }, { label: "Woningen", value: (r) => num(r.units), num: true, cls: () => "hp-gap" },
        ], run.shortfall)
        : el("p", { class: "utrecht-paragraph" }, "Geen tekort."));
  }

  // What making the plan binding would change, against the pending proposals: replaced, first proposals, kept.
  function changes(run, pending) {
    const planned = new Map();
    for (const a of run.plan || []) {
      if (!planned.has(a.placement_id)) planned.set(a.placement_id, []);
      planned.get(a.placement_id).push(a);
    }
    const pendingBy = new Map(pending.map((p) => [p.placement_id, p]));
    const replaced = [], first = [];
    for (const [placement, allocs] of planned) {
      const now = pendingBy.get(placement);
      if (!now) first.push({ placement, allocs });
      else if (signature(now.allocations) !== signature(allocs)) {
        const why = allocs.length > 1 && allocs.length !== now.allocations.length ? `gesplitst over ${allocs.length} kavels` : "andere kavels";
        replaced.push({ placement, allocs, now, why });
      }
    }
    const gone = new Set(replaced.map((r) => r.now.id));
    const kept = pending.filter((p) => !gone.has(p.id));
    return { replaced, first, kept };
  }

  function renderChanges(run, pending) {
    const box = document.getElementById("wijzigingen");
    const { replaced, first, kept } = changes(run, pending);
    Object.assign(box.dataset, { replaced: replaced.length, first: first.length, kept: kept.length, shortfall: run.shortfall_units });
    show(box,
      el("h2", { class: "utrecht-heading-2", id: "wijzigingen-kop" }, "Wat verandert er als u dit plan bindend maakt"),
      el("ul", { class: "utrecht-unordered-list" },
        el("li", {}, `${num(replaced.length)} lopende ${replaced.length === 1 ? "voorstel wordt" : "voorstellen worden"} vervangen (andere kavels of gesplitst).`),
        el("li", {}, `${num(first.length)} ${first.length === 1 ? "plaatsing krijgt" : "plaatsingen krijgen"} een eerste voorstel.`),
        el("li", {}, `${num(kept.length)} lopende ${kept.length === 1 ? "voorstel blijft" : "voorstellen blijven"} ongewijzigd.`),
        el("li", {}, `Tekort: ${num(run.shortfall_units)} woningen zonder plek.`)),
      replaced.length ? table("Lopende voorstellen die het plan vervangt", [
        { label: "Voorstel", value: (r) => el("a", { class: "utrecht-link", href: `/voorstellen?id=${r.now.id}` }, short(r.now.id)) },
        { label: "Investeerder", value: (r) => r.now.investor_org },
        { label: "Nu", value: (r) => plots(r.now.allocations) },
        { label: "Volgens plan", value: (r) => plots(r.allocs) },
        { label: "Waarom", value: (r) => r.why },
      ], replaced, (r) => ({ "data-placement": r.placement })) : null,
      first.length ? table(`Plaatsingen met een eerste voorstel${first.length > 50 ? " (eerste 50)" : ""}`, [
        { label: "Plaatsing", value: (r) => short(r.placement) },
        { label: "Woningen", value: (r) => num(r.allocs.reduce((n, a) => n + a.units, 0)), num: true },
        { label: "Kavels (gemeente kavel: woningen)", value: (r) => plots(r.allocs) },
      ], first.slice(0, 50), (r) => ({ "data-placement": r.placement })) : null,
      el("p", { class: "utrecht-paragraph" }, "Bindend maken start een nieuwe run over de stand van dat moment; is er intussen iets veranderd, dan kan de uitkomst afwijken."));
  }

  async function start(mode) {
    dry.disabled = binding.disabled = true;
    show(result, el("p", { class: "utrecht-paragraph" }, mode === "binding" ? "Bindende run loopt…" : "Proefrun loopt…"));
    try {
      const run = await api("POST", "/matching/runs", { mode, allow_garantiekavel_override: false });
      render(run);
      if (mode === "dry_run") renderChanges(run, await all("/proposals?status=pending", 20000));
      else document.getElementById("wijzigingen").remove();
      binding.disabled = mode === "binding";
      loadRuns();
    } catch (e) { show(result, alert("fout", `Run mislukt: ${e.message}`)); binding.disabled = true; }
    dry.disabled = false;
  }

  async function loadRuns() {
    try {
      const rows = await all("/matching/runs", 50);
      show(runs, table("Runs", [
        { label: "Gestart", value: (r) => date(r.created_at) }, { label: "Soort", value: (r) => (r.mode === "binding" ? "Bindend" : "Proef") },
        { label: "Vraag", value: (r) => num(r.demand_units), num: true }, { label: "Geplaatst", value: (r) => num(r.housed_units), num: true },
        { label: "Tekort", value: (r) => num(r.shortfall_units), num: true },
      ], rows));
      document.body.dataset.loaded = "true";
    } catch (e) { show(runs, alert("fout", e.message)); }
  }

  // For the browser tests: the comparison shown for a given run and pending proposals (like window.hpMap).
  window.hpRun = { show: (run, pending) => { render(run); renderChanges(run, pending); } };
  dry.addEventListener("click", () => start("dry_run"));
  binding.addEventListener("click", () => start("binding"));
  loadRuns();
})();
