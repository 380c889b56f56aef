"""Dead letters over the three services (marktmeester)."""
