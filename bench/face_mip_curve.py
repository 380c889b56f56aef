"""Where the truth is at the ladder minimum: HiGHS on the face MIP for long, its dual and primal bound over time.

Builds the national instance as `bench/matching_solver.py` does, solves it with the optimiser, then runs
the fixed-charge MIP over the ladder face's arcs (`solver.mip_improve`, warm-started from the plan) for
`--seconds` with HiGHS's log on, and prints the dual bound and the best plan at each checkpoint.

Run: .venv/bin/python bench/face_mip_curve.py [--seconds 600] [--seed 7] [--min-follow-up-years 5] [--model lean]
The last printed line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.matching_solver import SCALES, generate  # noqa: E402
from services.matching.app.optimiser import bounds as LB  # noqa: E402
from services.matching.app.optimiser import solver as S  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "face_mip_curve.log"


class LoggedHighs(highspy.Highs):
    """HiGHS with its log written to LOG (mip_improve switches output off; the curve needs it)."""

    def run(self):
        self.setOptionValue("output_flag", True)
        self.setOptionValue("log_to_console", False)
        self.setOptionValue("log_file", str(LOG))
        return super().run()


def curve(log: str) -> list[tuple[float, float, float]]:
    """(seconds, dual bound, primal bound) from HiGHS's MIP progress lines."""
    out = []
    for line in log.splitlines():
        m = re.search(r"\s([-\d.e+]+|-?inf)\s+([-\d.e+]+|-?inf|-)\s+(?:[\d.]+%|Large|-)?\s+\d+\s+\d+\s+\d+\s+\d+\s+([\d.]+)s\s*$", line)
        if m and m.group(2) not in ("-",):
            try:
                out.append((float(m.group(3)), float(m.group(1)), float(m.group(2))))
            except ValueError:
                pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-follow-up-years", type=float, default=None)
    parser.add_argument("--model", choices=["plan", "lean"], default="plan",
                        help="plan: the plan's MIP (solver.mip_improve); lean: bounds.fctp_mip_bound (no min-group columns)")
    args = parser.parse_args()
    spec = SCALES["national"]
    w = S.Weights()
    if args.min_follow_up_years is not None:
        w = dataclasses.replace(w, min_follow_up_years=args.min_follow_up_years)
    demands, plots = generate(args.seed, spec["complexes"], spec["homes"], spec["plots"])
    ours = S.solve(demands, plots, w, k=20, method="search", time_limit_s=spec["time_limit_s"])
    n, arcs = len(demands), ours.arcs
    supply = np.array([d.units for d in demands], dtype=np.int64)
    capacity = np.array([p.free_units for p in plots], dtype=np.int64)
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), supply)
    ladder_min = S.ladder_minimum(n, len(plots), arcs, supply, capacity)
    on_face = abs(ours.cost.ladder - ladder_min) < 1e-3
    face = LB.ladder_face(n, arcs, supply, capacity, ours.housed)
    keep, face_sub, _ = LB.face_arcs(face, arcs, supply, capacity)
    start = ours.flow if on_face else S.min_cost_max_flow(n, len(plots), arcs, supply, capacity, arcs.priority / S.COST_SCALE)
    eur_w = dataclasses.replace(w, min_group_before_ladder=False)
    print(f"face plan EUR {ours.stats.get('face_plan_eur')}, start EUR {S.eur_cost(arcs, start, groups, eur_w):,.0f}, "
          f"{len(keep)} face arcs, {args.seconds:.0f}s", flush=True)
    LOG.unlink(missing_ok=True)
    highspy.Highs = LoggedHighs  # mip_improve imports highspy inside: it gets the logged one
    t = time.perf_counter()
    if args.model == "plan":
        _, stats = S.mip_improve(face_sub, start[keep], supply, capacity, groups, eur_w, np.arange(n), args.seconds)
    else:
        lean = LB.fctp_mip_bound(n, arcs, supply, capacity, w, ours.housed, ladder_min, args.seconds, start=start)
        stats = {"mip_dual_bound": lean["bound"], "mip_status": lean["status"], "mip_nodes": lean["nodes"]}
    wall = time.perf_counter() - t
    points = curve(LOG.read_text())
    marks = {}
    for s in (60, 180, 600, args.seconds):
        before = [p for p in points if p[0] <= s]
        if before:
            marks[int(s)] = {"dual": before[-1][1], "primal": before[-1][2]}
    for s, v in marks.items():
        print(f"t={s:>4}s  dual bound EUR {v['dual']:,.0f}  best plan EUR {v['primal']:,.0f}")
    print(f"final: dual {stats.get('mip_dual_bound')}, status {stats.get('mip_status')}, nodes {stats.get('mip_nodes')}, {wall:.0f}s")
    print(json.dumps({"bench": "face_mip_curve", "seed": args.seed, "model": args.model,
                      "min_follow_up_years": w.min_follow_up_years, "face_arcs": len(keep), "marks": marks,
                      "final_dual": stats.get("mip_dual_bound"), "nodes": stats.get("mip_nodes"), "wall_s": round(wall, 1),
                      "points": points[-200:]}))


if __name__ == "__main__":
    main()
