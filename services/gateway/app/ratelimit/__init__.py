"""Rate limiting per caller (token bucket)."""

from services.gateway.app.ratelimit.limiter import RateLimited, RateLimiter

__all__ = ["RateLimited", "RateLimiter"]
