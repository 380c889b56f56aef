// Landelijke run (marktmeester): a dry-run shows plan and shortfall; "Bindend maken" creates the proposals.
"use strict";
(() => {
  const { api, all, el, num, table, show, alert, date } = HP;
  const result = document.getElementById("resultaat");
  const runs = document.getElementById("runs");
  const dry = document.getElementById("proefrun");
  const binding = document.getElementById("bindend");

  function render(run) {
    const plan = run.plan || [];
    show(result,
      alert("ok", `${run.mode === "binding" ? "Bindende run" : "Proefrun"}: ${num(run.housed_units)} van ${num(run.demand_units)} woningen geplaatst, tekort ${num(run.shortfall_units)}, ${num(run.proposals_created)} voorstellen aangemaakt (${run.wall_time_s.toFixed(1)} s).`),
      plan.length
        ? table(`Plan (${plan.length} regels${plan.length > 50 ? ", eerste 50" : ""})`, Object.keys(plan[0]).slice(0, 7).map((k) => ({ label: k, value: (r) => (typeof r[k] === "object" ? JSON.stringify(r[k]) : String(r[k] ?? "")) })), plan.slice(0, 50))
        : el("p", { class: "utrecht-paragraph" }, "Het plan is leeg: er is geen open vraag zonder voorstel."),
      run.shortfall.length
        ? table("Tekort per kwartaal en provincie", [
          { label: "Kwartaal", value: (r) => r.quarter }, { label: "Provincie", value: (r) => r.province_code }, { label: "Woningen", value: (r) => num(r.units), num: true, cls: () => "hp-gap" },
        ], run.shortfall)
        : el("p", { class: "utrecht-paragraph" }, "Geen tekort."));
  }

  async function start(mode) {
    dry.disabled = binding.disabled = true;
    show(result, el("p", { class: "utrecht-paragraph" }, mode === "binding" ? "Bindende run loopt…" : "Proefrun loopt…"));
    try {
      const run = await api("POST", "/matching/runs", { mode, allow_garantiekavel_override: false });
      render(run);
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

  dry.addEventListener("click", () => start("dry_run"));
  binding.addEventListener("click", () => start("binding"));
  loadRuns();
})();
