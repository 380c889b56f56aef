"""CRS negotiation of the NLGov geospatial module: `Content-Crs`, `Accept-Crs`, `crs`, `bbox-crs`.

- A request that carries geometry says its CRS in `Content-Crs` (default WGS84); an unknown value
  is a 400 naming the header.
- A response with geometry is in the CRS the client asks for: the `crs` query parameter where an
  endpoint offers one, else the first supported entry of `Accept-Crs`, else WGS84; it says which in
  its own `Content-Crs` header (the OGC URI in angle brackets, as OGC API Features part 2 does).
  Asking only for unsupported systems is a 406.
- `bbox` is in WGS84 unless `bbox-crs` names another system.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query, Response

from shared.geo import SUPPORTED_TEXT, Crs, parse_crs
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
BboxCrsQuery = Annotated[
    str | None,
    Query(alias="bbox-crs", description=f"CRS of `bbox`: {SUPPORTED_TEXT}. Default: WGS84.", examples=["EPSG:28992"]),
]

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


def bbox_crs(value: str | None) -> Crs:
    """The CRS of the `bbox` parameter (400 naming `bbox-crs` when unsupported)."""
    if value is None:
        return Crs.wgs84
    crs = parse_crs(value)
    if crs is None:
        raise InvalidInput([("bbox-crs", f"unsupported CRS {value!r}; use {SUPPORTED_TEXT}")], where="query")
    return crs


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
