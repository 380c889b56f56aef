"""Geometry without PostGIS: GeoJSON boundaries (shapely), areas and distances; CRS transformations in shared.geo."""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from shared.geo import Crs, transform_xy
from shared.reference import EARTH_RADIUS_KM, NL_BBOX, in_netherlands

KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180.0


# A plot's boundary, not a coastline: validating a huge ring took seconds and 100+ MiB in shapely.
MAX_BOUNDARY_POSITIONS = 2_000


def count_positions(coordinates: Any, limit: int = MAX_BOUNDARY_POSITIONS) -> int:
    """How many positions nested lists hold, counting no further than just past `limit`."""
    count, stack = 0, [coordinates]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, list) and item and isinstance(item[0], (int, float)):
            count += 1
        elif isinstance(item, list):
            stack.extend(item)
    return count


def ring_problems(geojson: dict[str, Any]) -> list[str]:
    """Shape, size and closure of the rings, checked before shapely sees them (RFC 7946 §3.1.6)."""
    polygons = geojson.get("coordinates")
    if geojson["type"] == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not all(isinstance(p, list) and p for p in polygons):
        return ["malformed GeoJSON coordinates"]
    rings = [ring for polygon in polygons for ring in polygon]
    if not all(isinstance(ring, list) for ring in rings):
        return ["malformed GeoJSON coordinates"]
    if sum(len(ring) for ring in rings) > MAX_BOUNDARY_POSITIONS:
        return [f"more than {MAX_BOUNDARY_POSITIONS} positions"]
    for ring in rings:
        if len(ring) < 4 or ring[0] != ring[-1]:
            return ["every ring must be closed: at least four positions, the last equal to the first"]
    return []


def boundary_problems(geojson: Any) -> list[str]:
    """Why a GeoJSON boundary is unusable (empty list: fine). Polygon or MultiPolygon in WGS84, inside NL."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        return ["must be a GeoJSON Polygon or MultiPolygon object"]
    if problems := ring_problems(geojson):
        return problems
    try:
        geom = shape(geojson)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds for malformed coordinates
        return [f"malformed GeoJSON coordinates ({type(exc).__name__})"]
    if geom.is_empty:
        return ["the polygon is empty"]
    problems = []
    if not geom.is_valid:
        problems.append(f"the polygon is not valid: {explain_validity(geom)}")
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if not (in_netherlands(min_lat, min_lon) and in_netherlands(max_lat, max_lon)):
        problems.append(
            "the polygon lies (partly) outside the Netherlands "
            f"(lon {NL_BBOX['min_lon']}..{NL_BBOX['max_lon']}, lat {NL_BBOX['min_lat']}..{NL_BBOX['max_lat']}; "
            "GeoJSON positions are [lon, lat])"
        )
    return problems


def boundary_area_ha(geojson: dict[str, Any]) -> float:
    """Area of a valid WGS84 boundary in hectares, measured in RD New metres."""
    to_rd = transform_xy(Crs.wgs84, Crs.rd_new)
    rd = shapely.transform(shape(geojson), lambda x, y: to_rd(x, y), interleaved=False)
    return rd.area / 10_000.0


def bbox_around(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing every point within `km` (the SQL prefilter)."""
    dlat = km / KM_PER_DEGREE_LAT
    widest = min(89.9, abs(lat) + dlat)  # the box must be widest at the latitude nearest a pole
    dlon = km / (KM_PER_DEGREE_LAT * math.cos(math.radians(widest)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
