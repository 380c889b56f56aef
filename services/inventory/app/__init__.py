"""The inventory service: complexes (batches of identical relocatable homes), units, placements under a permit, the expiry signal and relocation plans."""
