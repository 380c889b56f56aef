"""Relocation plans (herplaatsingsplannen) of accepted proposals: forwarded to inventory."""
