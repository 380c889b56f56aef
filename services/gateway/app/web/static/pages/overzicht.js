// Overzicht (marktmeester): the national numbers of /dashboard/summary, each linking to its list.
"use strict";
(async () => {
  const { api, el, num, show } = HP;
  const box = document.getElementById("cijfers");
  const card = (title, rows) => el("section", { class: "hp-card", "aria-label": title }, el("h2", { class: "utrecht-heading-2" }, title),
    el("dl", {}, rows.flatMap(([label, value, href, key]) => [el("dt", {}, label), el("dd", {}, el("a", { class: "utrecht-link", href, "data-key": key }, num(value)))])));
  try {
    const s = await api("GET", "/dashboard/summary");
    document.querySelector('[data-field="today"]').textContent = new Date(s.today).toLocaleDateString("nl-NL");
    const year = Number(s.today.slice(0, 4));
    const byStatus = s.proposals.by_status;
    show(box,
      card("Woningen", [
        ["Geplaatst", s.homes.placed, "/kaart", "homes.placed"],
        ["Termijn eindigt binnen 12 maanden", s.homes.ending_within_12_months, `/kaart?eindjaar=${year + 1}`, "homes.ending_within_12_months"],
        ["Termijn eindigt binnen 24 maanden", s.homes.ending_within_24_months, `/kaart?eindjaar=${year + 2}`, "homes.ending_within_24_months"],
      ]),
      card("Kavelcapaciteit", [
        ["Gepubliceerde kavels", s.plots.published, "/kaart", "plots.published"],
        ["Capaciteit (woningen)", s.plots.capacity_units, "/kaart", "plots.capacity_units"],
        ["Gereserveerd", s.plots.reserved_units, "/kaart", "plots.reserved_units"],
        ["Vrij", s.plots.free_units, "/kaart", "plots.free_units"],
      ]),
      card("Voorstellen", Object.entries(byStatus).map(([status, n]) => [HP.STATUS_NL[status] || status, n, `/voorstellen?status=${status}`, `proposals.by_status.${status}`])),
      card("Tekort", [
        ["Open vraag (woningen)", s.proposals.open_demand_units, "/voorstellen?status=pending", "proposals.open_demand_units"],
        ["Tekort volgens laatste run", s.proposals.shortfall_units, "/landelijke-run", "proposals.shortfall_units"],
        ["Capaciteitsgat komende 24 maanden", s.capacity_gap_24_months, "/prognose", "capacity_gap_24_months"],
      ]),
    );
    document.body.dataset.loaded = "true";
  } catch (e) {
    show(box, HP.alert("fout", `De cijfers konden niet worden geladen: ${e.message}`));
  }
})();
