"""Relocation schemas and list filters: the inventory service's own models."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from services.inventory.app.relocations.schemas import RelocationOut

Relocation = RelocationOut

ComplexFilter = Annotated[uuid.UUID | None, Query(description="Only relocations of this complex.")]
PlacementFilter = Annotated[uuid.UUID | None, Query(description="Only the relocation of this placement.")]

__all__ = ["ComplexFilter", "PlacementFilter", "Relocation"]
