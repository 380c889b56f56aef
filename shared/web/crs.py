"""CRS negotiation of the NLGov geospatial module: `Content-Crs`, `Accept-Crs`, `crs`, `bbox-crs`.

- A request that carries geometry says its CRS in `Content-Crs` (default WGS84); an unknown value
  is a 400 naming the header.
- A response with geometry is in the CRS the client asks for: the `crs` query parameter where an
  endpoint offers one, else the first supported entry of `Accept-Crs`, else WGS84; it says which in
  its own `Content-Crs` header (the OGC URI in angle brackets, as OGC API Features part 2 does).
  Asking only for unsupported systems is a 406.
- `bbox` is in WGS84 unless `bboxCrs` (or OGC's `bbox-crs`) names another system.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response

from shared.geo import SUPPORTED_TEXT, Crs, parse_crs, transform_bbox
from shared.web.problems import InvalidInput, ProblemError

CONTENT_CRS = "Content-Crs"
ACCEPT_CRS = "Accept-Crs"

ContentCrsHeader = Annotated[
    str | None,
    Header(
        alias=CONTENT_CRS,
        description=f"CRS of the geometry in the request body: {SUPPORTED_TEXT}. Default: WGS84.",
        examples=["EPSG:28992"],
    ),
]
AcceptCrsHeader = Annotated[
    str | None,
    Header(
        alias=ACCEPT_CRS,
        description=f"CRS the response's geometry should be in: {SUPPORTED_TEXT}; the first supported one of a "
        "comma-separated list is used. The response names it in `Content-Crs`. Default: WGS84.",
        examples=["EPSG:28992"],
    ),
]
CrsQuery = Annotated[
    str | None,
    Query(
        alias="crs",
        description=f"CRS of the geometry in the response (wins over `Accept-Crs`): {SUPPORTED_TEXT}.",
        examples=["http://www.opengis.net/def/crs/EPSG/0/28992"],
    ),
]
BboxQuery = Annotated[
    str | None,
    Query(
        description="Only what lies inside this box: minLon,minLat,maxLon,maxLat in WGS84, or minX,minY,maxX,maxY in "
        "RD New metres with `bboxCrs=EPSG:28992`.",
        examples=["5.3,51.3,5.6,51.6"],
        max_length=200,
    ),
]
OGC_BBOX_CRS = "bbox-crs"  # OGC API Features part 2's name; the NLGov rules want lowerCamelCase query keys


def _bbox_crs(
    request: Request,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bboxCrs",
            description=f"CRS of `bbox`: {SUPPORTED_TEXT}. Default: WGS84. "
            f"`{OGC_BBOX_CRS}` (the OGC API Features name) is accepted too.",
            examples=["EPSG:28992"],
        ),
    ] = None,
) -> str | None:
    ogc = request.query_params.get(OGC_BBOX_CRS)
    if bbox_crs is not None and ogc is not None and parse_crs(bbox_crs) != parse_crs(ogc):
        raise InvalidInput([("bboxCrs", f"bboxCrs and {OGC_BBOX_CRS} name different systems")], where="query")
    return bbox_crs if bbox_crs is not None else ogc


BboxCrsQuery = Annotated[str | None, Depends(_bbox_crs)]

# The response header every geometry-bearing answer declares (OpenAPI `headers` of a 200).
CONTENT_CRS_RESPONSE_HEADER: dict[str, Any] = {
    CONTENT_CRS: {
        "description": "CRS of the geometry in this response (OGC URI).",
        "schema": {"type": "string", "example": f"<{Crs.wgs84.value}>"},
    }
}


def request_crs(content_crs: str | None) -> Crs:
    """The CRS of a request body's geometry (400 naming the header when unsupported)."""
    if content_crs is None or not content_crs.strip():
        return Crs.wgs84
    crs = parse_crs(content_crs)
    if crs is None:
        raise InvalidInput([(CONTENT_CRS, f"unsupported CRS {content_crs!r}; use {SUPPORTED_TEXT}")], where="header")
    return crs


# Where each system's coordinates can lie (RD New: the EPSG:28992 area of use, in metres): a box
# outside is a mistake (degrees sent as metres, or the reverse), not an empty result.
DOMAIN = {Crs.wgs84: (-180.0, -90.0, 180.0, 90.0), Crs.rd_new: (-7_000.0, 289_000.0, 300_000.0, 629_000.0)}


def bbox_filter(
    bbox: str | None, bbox_crs: str | None
) -> tuple[tuple[float, float, float, float] | None, list[tuple[str, str]]]:
    """`bbox` (in `bbox-crs`) as (min lon, min lat, max lon, max lat) in WGS84, and what is wrong with the two."""
    crs = Crs.wgs84 if bbox_crs is None else parse_crs(bbox_crs)
    if crs is None:
        return None, [("bboxCrs", f"unsupported CRS {bbox_crs!r}; use {SUPPORTED_TEXT}")]
    if bbox is None:
        return None, []
    unit = "WGS84 degrees (minLon,minLat,maxLon,maxLat)" if crs is Crs.wgs84 else "RD New metres (minX,minY,maxX,maxY)"
    wrong = [("bbox", f"must be four numbers in {unit} with min <= max, inside the CRS's domain")]
    try:
        min_x, min_y, max_x, max_y = (float(p) for p in bbox.split(","))
    except ValueError:
        return None, wrong
    lo_x, lo_y, hi_x, hi_y = DOMAIN[crs]
    if not (lo_x <= min_x <= max_x <= hi_x and lo_y <= min_y <= max_y <= hi_y):
        return None, wrong
    return transform_bbox((min_x, min_y, max_x, max_y), crs, Crs.wgs84), []


def response_crs(accept_crs: str | None, crs: str | None = None) -> Crs:
    """The CRS to answer in: `crs` (400 when unsupported), else `Accept-Crs` (406 when nothing fits), else WGS84."""
    if crs is not None:
        chosen = parse_crs(crs)
        if chosen is None:
            raise InvalidInput([("crs", f"unsupported CRS {crs!r}; use {SUPPORTED_TEXT}")], where="query")
        return chosen
    if accept_crs is None or not accept_crs.strip():
        return Crs.wgs84
    for entry in accept_crs.split(","):
        chosen = parse_crs(entry.split(";", 1)[0])  # a ";q=..." weight is allowed; the order decides
        if chosen is not None:
            return chosen
    raise ProblemError(
        406, "Not acceptable", f"None of the CRSs in {ACCEPT_CRS} ({accept_crs!r}) is supported; use {SUPPORTED_TEXT}."
    )


def declare(response: Response, crs: Crs) -> None:
    """Name the response's CRS (`Content-Crs`)."""
    response.headers[CONTENT_CRS] = f"<{crs.value}>"
