"""GeoJSON maps of plots and placements: forwarded to sites and inventory."""
