"""Coordinate reference systems of the API: WGS84 and RD New, and moving geometries between them.

The NLGov geospatial module lets a client send and receive coordinates in either system. GeoJSON
positions are always [x, y] in the named system: [lon, lat] in WGS84 (RFC 7946 / OGC CRS84 axis
order, also when a client says EPSG:4326) and [x, y] metres in RD New. Transformations go through
PROJ (pyproj), the same code path as the plots' `rd_x`/`rd_y`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any

from pyproj import Transformer


class Crs(str, enum.Enum):
    """A CRS the API speaks; the value is its OGC URI (what `Content-Crs` answers)."""

    wgs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    rd_new = "http://www.opengis.net/def/crs/EPSG/0/28992"

    @property
    def epsg(self) -> str:
        return {Crs.wgs84: "EPSG:4326", Crs.rd_new: "EPSG:28992"}[self]


# Every spelling a client may use for the two systems (matched case-insensitively, <> stripped).
_ALIASES: dict[str, Crs] = {
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": Crs.wgs84,
    "http://www.opengis.net/def/crs/epsg/0/4326": Crs.wgs84,
    "epsg:4326": Crs.wgs84,
    "crs84": Crs.wgs84,
    "ogc:crs84": Crs.wgs84,
    "http://www.opengis.net/def/crs/epsg/0/28992": Crs.rd_new,
    "epsg:28992": Crs.rd_new,
}
SUPPORTED = (Crs.wgs84, Crs.rd_new)
SUPPORTED_TEXT = "EPSG:4326 (WGS84, the default, also as the OGC CRS84 URI) or EPSG:28992 (RD New), or their OGC URIs"


def parse_crs(value: str) -> Crs | None:
    """The CRS a header or query value names, or None when it names none we support."""
    return _ALIASES.get(value.strip().strip("<>").strip().lower())


@functools.cache
def _transformer(source: Crs, target: Crs) -> Transformer:
    return Transformer.from_crs(source.epsg, target.epsg, always_xy=True)


def rd_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """RD New x/y (metres) -> (lat, lon)."""
    lon, lat = _transformer(Crs.rd_new, Crs.wgs84).transform(x, y)
    return lat, lon


def wgs84_to_rd(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) -> RD New (x, y) in metres."""
    return _transformer(Crs.wgs84, Crs.rd_new).transform(lon, lat)


def transform_xy(source: Crs, target: Crs) -> Callable[[float, float], tuple[float, float]]:
    """A function taking one [x, y] position from `source` to `target` (identity when equal)."""
    if source is target:
        return lambda x, y: (x, y)
    transformer = _transformer(source, target)
    return lambda x, y: transformer.transform(x, y)


def _map_positions(coordinates: Any, move: Callable[[float, float], tuple[float, float]], digits: int) -> Any:
    if coordinates and isinstance(coordinates[0], (int, float)):
        x, y = move(float(coordinates[0]), float(coordinates[1]))
        return [round(x, digits), round(y, digits), *coordinates[2:]]
    return [_map_positions(c, move, digits) for c in coordinates]


# WGS84 degrees to 7 decimals (~1 cm), RD metres to 3 (1 mm): no false precision, no loss.
DIGITS = {Crs.wgs84: 7, Crs.rd_new: 3}


def transform_geometry(geometry: dict[str, Any], source: Crs, target: Crs) -> dict[str, Any]:
    """A GeoJSON geometry (Point, Polygon, MultiPolygon, ...) with its positions moved to `target`."""
    if source is target:
        return geometry
    moved = _map_positions(geometry["coordinates"], transform_xy(source, target), DIGITS[target])
    return {**geometry, "coordinates": moved}


def transform_bbox(bbox: tuple[float, float, float, float], source: Crs, target: Crs) -> tuple[float, float, float, float]:
    """The box in `target` enclosing the box (min x, min y, max x, max y) given in `source`.

    The grids are slightly rotated against each other and the edges curve, so the edges are sampled,
    not just the corners."""
    if source is target:
        return bbox
    move = transform_xy(source, target)
    min_x, min_y, max_x, max_y = bbox
    steps = [i / 16 for i in range(17)]
    edge = [(min_x + (max_x - min_x) * t, y) for t in steps for y in (min_y, max_y)]
    edge += [(x, min_y + (max_y - min_y) * t) for t in steps for x in (min_x, max_x)]
    moved = [move(x, y) for x, y in edge]
    xs, ys = [p[0] for p in moved], [p[1] for p in moved]
    return min(xs), min(ys), max(xs), max(ys)
