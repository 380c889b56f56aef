// Overzicht (marktmeester): the national numbers of /dashboard/summary, each linking to its list,
// and the home ledger (/ledger): every registered home in one lifecycle state.
"use strict";
(async () => {
  const { api, el, num, show, table } = HP;
  const box = document.getElementById("cijfers");
  const ledgerBox = document.getElementById("woningregister");
  const STATE_NL = {
    registered: "Geregistreerd, nog niet geplaatst", in_place: "Op locatie", expiring: "Termijn verloopt (zonder voorstel)", proposed: "In voorstel", agreed: "Akkoord",
    reserved: "Kavel gereserveerd", relocation_scheduled: "Verplaatsing ingepland", moved: "Verplaatst",
    in_storage: "In opslag", fallback: "Terugvaloptie (te koop)", sold: "Verkocht", dismantled: "Gedemonteerd",
  };
  const SHORT = new Set(["expiring", "in_storage", "fallback"]);
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
  try {
    const l = await api("GET", "/ledger");
    show(ledgerBox, table(`${num(l.registered)} woningen geregistreerd, ${num(l.accounted)} verantwoord; tekort ${num(l.shortfall)}`, [
      { label: "Stand", value: ([state]) => STATE_NL[state] || state },
      { label: "Woningen", value: ([, n]) => num(n), num: true },
      { label: "Telt als tekort", value: ([state]) => (SHORT.has(state) ? "ja" : "") },
    ], Object.entries(l.by_state), ([state]) => ({ "data-key": `ledger.by_state.${state}` })));
  } catch (e) {
    show(ledgerBox, HP.alert("fout", `Het woningregister kon niet worden geladen: ${e.message}`));
  }
})();
