"""Cross-service statistics the gateway aggregates for the marktmeester's dashboard."""
