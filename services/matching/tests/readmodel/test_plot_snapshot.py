"""What matching reads from a plot snapshot: free capacity net of promised homes, hard vs soft site flags."""

from __future__ import annotations

import datetime as dt
import uuid

from services.matching.app.optimiser.rules import pair_violations
from services.matching.app.optimiser.solver import Demand, Weights
from services.matching.app.readmodel.models import PlotView
from services.matching.app.readmodel.service import to_plot
from shared.domain import PermitInstrument, SiteKind
from shared.events.models import SiteUpdated

HOME = Demand(key="d", units=20, lat=51.44, lon=5.47, gemeente_code="GM0772", province_code="PV30",
              end_date=dt.date(2027, 6, 30), social_rent=True)


def _snapshot(**extra) -> dict:
    data = SiteUpdated(
        site_id=uuid.uuid4(), version=3, status="published", gemeente_code="GM0772", province_code="PV30", name="Kavel",
        kind=SiteKind.municipal, lat=51.44, lon=5.47, capacity_units=48, reserved_units=8,
        available_from=dt.date(2027, 6, 1), expected_instrument=PermitInstrument.wabo_bor4_11, max_layers=2,
        allows_tijdelijk_bbl=True, allows_permanent=True, **extra,
    )
    return data.model_dump(mode="json")


def _view(snapshot: dict) -> PlotView:
    return PlotView(site_id=uuid.UUID(snapshot["site_id"]), version=3, status="published", gemeente_code="GM0772",
                    province_code="PV30", kind="municipal", capacity_units=48, reserved_units=8, snapshot=snapshot)


def test_homes_the_municipality_promised_are_not_free_for_matching():
    plot = to_plot(_view(_snapshot(promised_units=30)), promised=5)  # 5 more in open proposals
    assert plot.free_units == 48 - 8 - 30 - 5


def test_a_plot_refusing_social_rent_never_takes_rthf_homes():
    plot = to_plot(_view(_snapshot(allows_social_rent=False)), promised=0)
    assert "plot_refuses_social_rent" in pair_violations(HOME, plot, Weights())


def test_an_event_from_before_the_split_reads_noise_and_water_risk_as_soft_factors():
    # sites wrote geluid / water_risk among the (hard) exclusions before API 1.2
    old = {**_snapshot(), "exclusions": ["geluid", "natura2000", "water_risk"]}
    old.pop("site_factors")
    plot = to_plot(_view(SiteUpdated.model_validate(old).model_dump(mode="json")), promised=0)
    assert plot.exclusions == frozenset({"natura2000"})
    assert plot.site_factors == frozenset({"geluid", "water_risk"})
    now = to_plot(_view(_snapshot(exclusions=["military"], site_factors=["geluid"])), promised=0)
    assert (now.exclusions, now.site_factors) == (frozenset({"military"}), frozenset({"geluid"}))
