"""The marktmeester's dashboards: national figures aggregated from the three services' statistics."""
