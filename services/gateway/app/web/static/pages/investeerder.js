// Mijn woningen (investor): complexes, their placements with lifecycle state, valuation and RTHF claim.
"use strict";
(async () => {
  const { api, all, el, num, eur, date, table, show, alert, STATUS_NL } = HP;
  const complexes = document.getElementById("complexen");
  const valuation = document.getElementById("waardering");
  const placements = document.getElementById("plaatsingen");

  async function value(c) {
    try {
      const v = await api("GET", `/complexes/${c.id}/valuation`);
      const claim = v.rthf_claim;
      show(valuation, el("h3", { class: "utrecht-heading-3" }, c.name), el("dl", { class: "hp-dl" },
        el("dt", {}, "Woningen"), el("dd", {}, num(v.units)),
        el("dt", {}, "Leeftijd (jaar)"), el("dd", {}, num(Math.round(v.age_years * 10) / 10)),
        el("dt", {}, "Resterende technische levensduur"), el("dd", {}, `${num(Math.round(v.remaining_technical_life_years))} jaar`),
        el("dt", {}, "Boekwaarde totaal"), el("dd", {}, eur(v.book_value_eur_total)),
        el("dt", {}, "RTHF-claim"), el("dd", {}, claim && claim.applies ? `${eur(claim.gap_eur_total)} (Rijk ${eur(claim.rijk_eur)}, gemeente ${eur(claim.gemeente_eur)}, investeerder ${eur(claim.investor_eur)})` : "Niet van toepassing")));
    } catch (e) { show(valuation, alert("fout", e.message)); }
  }

  try {
    const [cs, ps] = await Promise.all([all("/complexes", 500), all("/placements", 2000)]);
    show(complexes, table(`${cs.length} complexen`, [
      { label: "Complex", value: (c) => el("button", { type: "button", class: "utrecht-button utrecht-button--subtle", onclick: () => value(c) }, c.name) },
      { label: "Eigenaar", value: (c) => c.investor_org }, { label: "Woningen", value: (c) => num(c.unit_count), num: true },
      { label: "Typologie", value: (c) => c.typology }, { label: "Bouwjaar", value: (c) => c.build_year ?? "–" },
    ], cs));
    show(placements, table(`${ps.length} plaatsingen`, [
      { label: "Gemeente", value: (p) => p.gemeente_code }, { label: "Woningen", value: (p) => num(p.unit_count), num: true },
      { label: "Status", value: (p) => STATUS_NL[p.status] || p.status }, { label: "Vanaf", value: (p) => date(p.start_date) }, { label: "Tot", value: (p) => date(p.end_date) },
    ], ps));
    document.body.dataset.loaded = "true";
  } catch (e) { show(complexes, alert("fout", `Laden mislukt: ${e.message}`)); }
})();
