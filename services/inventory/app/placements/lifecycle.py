"""The placement lifecycle: its states and the one table of allowed transitions (docs/lifecycle.md).

Inventory owns the home and its placement; proposed/agreed/reserved are matching's and sites'
facts and do not appear here. Every change of `Placement.lifecycle` goes through `advance`
(one row) or a claim query whose source states come from `sources` (the expiry scan), so the
table below is the only place the rules live.
"""

from __future__ import annotations

import enum

from shared.domain import EndState, UnitStatus
from shared.web.problems import ProblemError


class Lifecycle(str, enum.Enum):
    """Where a placement is in the life of its homes."""

    scheduled = "scheduled"  # a follow-up placement of a relocation, not yet started (homes on the move)
    active = "active"  # the homes stand here (in place)
    expiring = "expiring"  # the expiry signal went out (verloopt); waiting for a plot
    relocation_scheduled = "relocation_scheduled"  # a relocation plan (herplaatsingsplan) moves the homes on
    relocated = "relocated"  # the term ended and the homes moved to their follow-up placement
    in_storage = "in_storage"  # the term ended without a relocation: the homes are stored (opslag), still demand
    fallback = "fallback"  # the longest storage period passed without a plot: RTHF terugvaloptie, offered for sale
    closed_sold = "closed_sold"  # end state chosen by the investor: sold (verkocht)
    closed_dismantled = "closed_dismantled"  # end state chosen by the investor: dismantled (gedemonteerd)


L = Lifecycle

# (from, to) -> what the move is called. Extension (stay by extension, PATCH end_date) returns to active.
TRANSITIONS: dict[tuple[Lifecycle, Lifecycle], str] = {
    (L.scheduled, L.active): "started",
    (L.scheduled, L.scheduled): "extended",
    (L.active, L.active): "extended",
    (L.active, L.expiring): "expiring",
    (L.active, L.relocation_scheduled): "relocation scheduled",
    (L.active, L.in_storage): "ended without relocation",
    (L.active, L.closed_sold): "closed",
    (L.active, L.closed_dismantled): "closed",
    (L.expiring, L.active): "extended",
    (L.expiring, L.relocation_scheduled): "relocation scheduled",
    (L.expiring, L.in_storage): "ended without relocation",
    (L.expiring, L.closed_sold): "closed",
    (L.expiring, L.closed_dismantled): "closed",
    (L.relocation_scheduled, L.relocation_scheduled): "relocation scheduled (another part of its homes)",
    (L.relocation_scheduled, L.relocated): "ended, relocated",
    (L.relocation_scheduled, L.in_storage): "ended, relocated in part: the homes no plan took are stored",
    (L.in_storage, L.active): "extended",
    (L.in_storage, L.relocation_scheduled): "relocation scheduled",
    (L.in_storage, L.fallback): "fallback",
    (L.in_storage, L.closed_sold): "closed",
    (L.in_storage, L.closed_dismantled): "closed",
    (L.fallback, L.active): "extended",
    (L.fallback, L.closed_sold): "closed",
    (L.fallback, L.closed_dismantled): "closed",
}

CLOSED = {EndState.sold: L.closed_sold, EndState.dismantled: L.closed_dismantled}

# The unit status that goes with a state the units change in (None: the units keep theirs).
UNIT_STATUS: dict[Lifecycle, UnitStatus | None] = {
    L.scheduled: None,
    L.active: None,  # in use once the term covers today (set where the term is known)
    L.expiring: None,
    L.relocation_scheduled: None,
    L.relocated: UnitStatus.in_transit,
    L.in_storage: UnitStatus.stored,
    L.fallback: UnitStatus.stored,
    L.closed_sold: UnitStatus.sold,
    L.closed_dismantled: UnitStatus.dismantled,
}


class IllegalTransition(ProblemError):
    """A change the lifecycle does not allow: a 409 problem on the API, an error in the scan."""

    def __init__(self, current: Lifecycle | str, target: Lifecycle | str, detail: str | None = None) -> None:
        self.current, self.target = Lifecycle(current), Lifecycle(target)
        super().__init__(
            409,
            "Conflict",
            detail or f"A placement that is {self.current.value} cannot become {self.target.value}.",
            lifecycle=self.current.value,
        )


def allowed(current: Lifecycle | str, target: Lifecycle | str) -> bool:
    return (Lifecycle(current), Lifecycle(target)) in TRANSITIONS


def sources(target: Lifecycle) -> list[str]:
    """The states a placement may reach `target` from (the scan's claim queries filter on these)."""
    return sorted(f.value for f, t in TRANSITIONS if t is target)


def check(current: Lifecycle | str, target: Lifecycle | str, detail: str | None = None) -> None:
    if not allowed(current, target):
        raise IllegalTransition(current, target, detail)


def advance(placement, target: Lifecycle, detail: str | None = None) -> Lifecycle:  # noqa: ANN001 - a Placement row
    """Move one placement to `target` (or raise IllegalTransition); returns the state it left."""
    current = Lifecycle(placement.lifecycle)
    check(current, target, detail)
    placement.lifecycle = target.value
    return current
