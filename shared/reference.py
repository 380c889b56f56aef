"""Reference data: the CBS 2025 municipal classification (342 gemeenten, 12 provinces).

Source: CBS / PDOK via NLExtract and cartomap (see reference/SOURCES.md).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_DIR = Path(__file__).parent / "reference"


@dataclass(frozen=True)
class Province:
    code: str  # PVxx
    name: str


@dataclass(frozen=True)
class Municipality:
    """A gemeente: CBS code GMxxxx, name, province, centroid (WGS84)."""

    code: str
    name: str
    province_code: str
    province_name: str
    lat: float
    lon: float


@functools.cache
def provinces() -> dict[str, Province]:
    with open(_DIR / "provincies.csv", newline="", encoding="utf-8") as fh:
        return {row["code"]: Province(row["code"], row["name"]) for row in csv.DictReader(fh)}


@functools.cache
def municipalities() -> dict[str, Municipality]:
    by_name = {p.name: p.code for p in provinces().values()}
    with open(_DIR / "gemeenten.csv", newline="", encoding="utf-8") as fh:
        return {
            row["code"]: Municipality(
                code=row["code"],
                name=row["name"],
                province_code=by_name[row["province"]],
                province_name=row["province"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
            for row in csv.DictReader(fh)
        }


def province_of(gemeente_code: str) -> str | None:
    m = municipalities().get(gemeente_code)
    return m.province_code if m else None


EARTH_RADIUS_KM = 6371.0088

# The WGS84 bounding box of the Netherlands (DOMAIN.md §7).
NL_BBOX = {"min_lat": 50.75, "max_lat": 53.7, "min_lon": 3.2, "max_lon": 7.22}


def in_netherlands(lat: float, lon: float) -> bool:
    return NL_BBOX["min_lat"] <= lat <= NL_BBOX["max_lat"] and NL_BBOX["min_lon"] <= lon <= NL_BBOX["max_lon"]


def haversine_km(lat1, lon1, lat2, lon2):  # noqa: ANN001, ANN201 - scalars or numpy arrays
    """Great-circle distance in km: a float for scalars, an array for numpy arrays (broadcast), so the
    optimiser's demand x plot matrices and a single distance use the same formula."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    res = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return float(res) if np.ndim(res) == 0 else res
