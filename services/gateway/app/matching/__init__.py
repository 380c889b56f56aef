"""National matching runs (marktmeester): forwarded to matching."""
