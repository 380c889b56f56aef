"""Reference data: the CBS 2025 municipal classification (342 gemeenten, 12 provinces).

Source: CBS / PDOK via NLExtract and cartomap (see reference/SOURCES.md).
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

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


# The 2025 boundaries are generalised (simplified by CBS/cartomap): a real point near a border can fall
# a few hundred metres on the wrong side, so a plot may lie this far outside its gemeente's polygon.
MUNICIPALITY_TOLERANCE_M = 1000.0

_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


@functools.cache
def municipality_boundaries_rd() -> dict[str, shapely.Geometry]:
    """CBS 2025 generalised gemeente boundaries in RD New (metres), repaired where rounding broke them."""
    with open(_DIR / "gemeenten-2025.geojson", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    shapes = {}
    for f in features:
        geometry = shapely.geometry.shape(f["geometry"])
        rd = shapely.transform(geometry, lambda xy: np.column_stack(_TO_RD.transform(xy[:, 0], xy[:, 1])))
        shapes[f["properties"]["statcode"]] = shapely.make_valid(rd) if not rd.is_valid else rd
    for shape in shapes.values():
        shapely.prepare(shape)
    return shapes


def distance_to_municipality_m(gemeente_code: str, lat: float, lon: float) -> float | None:
    """Metres from a WGS84 point to the gemeente's boundary polygon (0 inside); None for an unknown code."""
    shape = municipality_boundaries_rd().get(gemeente_code)
    if shape is None:
        return None
    x, y = _TO_RD.transform(lon, lat)
    return float(shape.distance(shapely.Point(x, y)))


def point_near_centroid(rng, gemeente_code: str, km: float) -> tuple[float, float]:  # noqa: ANN001 - random.Random
    """A random WGS84 point about `km` around the gemeente's centroid and inside the gemeente, as sites
    requires of a plot (demo data, benches); the centroid itself when no draw lands inside."""
    m = municipalities()[gemeente_code]
    for _ in range(20):
        lat = round(m.lat + rng.uniform(-km, km) / 111.0, 5)
        lon = round(m.lon + rng.uniform(-km, km) / 68.0, 5)
        if distance_to_municipality_m(gemeente_code, lat, lon) == 0:
            return lat, lon
    return m.lat, m.lon  # every CBS centroid lies inside its gemeente (reference/SOURCES.md)
