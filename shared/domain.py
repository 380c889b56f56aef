"""Domain vocabulary shared by every service (DOMAIN.md §3, §4, §7, §8).

Enum values are the wire values in the API and in events; the Dutch legal term is
kept where it is the name users know.
"""

from __future__ import annotations

import enum


class PermitInstrument(str, enum.Enum):
    """The permit (vergunning) a placement stands under; see MAX_TERM_YEARS."""

    wro_voorlopig = "wro_voorlopig"  # Wro voorlopige bestemming
    wabo_bor4_11 = "wabo_bor4_11"  # Wabo reguliere procedure, Bor bijlage II art. 4 lid 11 (kruimelgeval)
    wabo_aflopend = "wabo_aflopend"  # Wabo art. 2.23 aflopende activiteit, with restore obligation
    wabo_uitgebreid = "wabo_uitgebreid"  # Wabo uitgebreide procedure (goede ruimtelijke onderbouwing)
    chw_experiment = "chw_experiment"  # Crisis- en herstelwet experiment
    ow_bopa = "ow_bopa"  # Omgevingswet buitenplanse omgevingsplanactiviteit
    ow_plan_tijdelijk = "ow_plan_tijdelijk"  # Omgevingswet temporary rules in the omgevingsplan
    permanent = "permanent"  # permanent use in the bestemmingsplan / omgevingsplan


# The statutory maximum term per instrument in years; None = no statutory maximum.
MAX_TERM_YEARS: dict[PermitInstrument, int | None] = {
    PermitInstrument.wro_voorlopig: 5,
    PermitInstrument.wabo_bor4_11: 10,
    PermitInstrument.wabo_aflopend: 15,
    PermitInstrument.wabo_uitgebreid: None,
    PermitInstrument.chw_experiment: None,
    PermitInstrument.ow_bopa: None,
    PermitInstrument.ow_plan_tijdelijk: None,
    PermitInstrument.permanent: None,
}


def is_temporary(instrument: PermitInstrument) -> bool:
    """A temporary permit regime (everything but a permanent use)."""
    return instrument is not PermitInstrument.permanent


class BblLevel(str, enum.Enum):
    """Building-quality level under the Besluit bouwwerken leefomgeving."""

    nieuwbouw = "nieuwbouw"
    tijdelijk = "tijdelijk"


class Typology(str, enum.Enum):
    grondgebonden = "grondgebonden"  # ground-level homes
    gestapeld = "gestapeld"  # stacked homes


class UnitStatus(str, enum.Enum):
    in_use = "in_use"
    vacant = "vacant"
    stored = "stored"
    in_transit = "in_transit"
    sold = "sold"
    dismantled = "dismantled"


class HomeState(str, enum.Enum):
    """Where a home is in its relocation lifecycle (the home ledger, DESIGN "The lifecycle of a home").

    Every registered home is in exactly one state. `registered` from the complex's registration until
    its first placement (not demand, not a shortfall); `in_place` on a first placement; `moved` once
    its follow-up placement is active. Shortfall = the homes in states with no plot
    (`expiring` without a proposal, `in_storage`, `fallback`). `sold` and `dismantled` are end
    states: the home has left the books through an explicit choice, with an event.
    """

    registered = "registered"  # the complex is registered, its homes have no placement yet
    in_place = "in_place"
    expiring = "expiring"  # signalled (verloopt), waiting for a plot: no open proposal
    proposed = "proposed"  # in a pending proposal
    agreed = "agreed"  # all parties accepted; reservation pending
    reserved = "reserved"  # capacity reserved at the plot(s)
    relocation_scheduled = "relocation_scheduled"  # inventory recorded the plan; follow-up not yet started
    moved = "moved"  # the follow-up placement is active
    in_storage = "in_storage"  # term ended without an agreed relocation (opslag); still demand
    fallback = "fallback"  # RTHF terugvaloptie: offered for sale after the longest storage period
    sold = "sold"  # end state (verkocht)
    dismantled = "dismantled"  # end state (gedemonteerd / gesloopt)


SHORTFALL_STATES = frozenset({HomeState.expiring, HomeState.in_storage, HomeState.fallback})
END_STATES = frozenset({HomeState.sold, HomeState.dismantled})


class EndState(str, enum.Enum):
    """An end state the investor chooses for the homes of a placement (besides staying by extension)."""

    sold = "sold"
    dismantled = "dismantled"


class Doelgroep(str, enum.Enum):
    """Target groups (doelgroepen) of temporary housing.

    `spoedzoekers` urgent home seekers; `statushouders` refugees with a residence permit; `uitstroom_opvang`
    people leaving maatschappelijke opvang or beschermd wonen; `gescheiden` people after a divorce;
    `ontheemden` displaced persons (e.g. from Ukraine); the others as named.
    """

    spoedzoekers = "spoedzoekers"
    starters = "starters"
    studenten = "studenten"
    mantelzorgers = "mantelzorgers"
    statushouders = "statushouders"
    uitstroom_opvang = "uitstroom_opvang"  # leaving maatschappelijke opvang / beschermd wonen
    arbeidsmigranten = "arbeidsmigranten"
    expats = "expats"
    gescheiden = "gescheiden"
    ontheemden = "ontheemden"
    senioren = "senioren"


class SiteKind(str, enum.Enum):
    garantiekavel = "garantiekavel"  # national guaranteed plot: a cluster of ~50 single-home spots
    municipal = "municipal"
    private = "private"


class ExclusionFlag(str, enum.Enum):
    """Hard PBL exclusions (harde juridische belemmeringen): a plot carrying any of them is never used."""

    natura2000 = "natura2000"  # Natura 2000 / stikstof
    externe_veiligheid = "externe_veiligheid"  # external safety (hazardous substances)
    monument = "monument"
    military = "military"  # military land (defensieterrein)


class SiteFactor(str, enum.Enum):
    """Soft site factors: the plot stays usable, the matching weighs each as a small cost per home."""

    geluid = "geluid"  # noise (geluidsbelasting): sound-insulating facades, a hogere-waardenbesluit
    water_risk = "water_risk"  # water en bodem sturend: the plot may later be unsuitable


# Until API 1.2 these were (wrongly) hard exclusions; older SiteSnapshot events may still carry them there.
SOFT_AS_EXCLUSION = frozenset(f.value for f in SiteFactor)


class LadderRung(str, enum.Enum):
    """The herplaatsingsladder (RTHF), climbed in this order."""

    gemeente = "gemeente"
    regio = "regio"
    provincie = "provincie"
    landelijk = "landelijk"
    garantiekavel = "garantiekavel"


LADDER_ORDER = list(LadderRung)


class Role(str, enum.Enum):
    marktmeester = "marktmeester"
    investor = "investor"
    municipality = "municipality"


RTHF_SPLIT = {"rijk": 0.60, "gemeente": 0.25, "investor": 0.15}
