"""Complex schemas: the inventory service's own models, so the public OpenAPI is typed."""

from services.inventory.app.complexes.schemas import ComplexCreate, ComplexOut, UnitOut, Valuation

Complex = ComplexOut
Unit = UnitOut

__all__ = ["Complex", "ComplexCreate", "Unit", "Valuation"]
