"""A token bucket per caller, kept in memory.

Limitation: the buckets live in this process, so the limit holds per gateway replica;
with N replicas behind a load balancer a caller may get up to N times the rate. A shared
store (Redis, or PostgreSQL) would make it global; for protecting the services from one
noisy client the per-replica limit is enough.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from shared.web.problems import ProblemError


class RateLimited(ProblemError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            429,
            "Too many requests",
            f"The rate limit for this caller is exceeded; retry after {retry_after_s} s.",
            headers={"Retry-After": str(retry_after_s)},
        )
        self.retry_after_s = retry_after_s


class RateLimiter:
    """`rate` tokens per second refill a bucket of `burst` tokens; a request takes one."""

    def __init__(
        self, rate: float, burst: int, *, max_buckets: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.max_buckets, self.clock = rate, float(burst), max_buckets, clock
        # key -> (tokens, last refill); least recently used first, so memory stays bounded
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> None:
        """Take one token for `key` or raise RateLimited with the seconds until one is back."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._evict()
            return
        self._buckets[key] = (tokens, now)
        raise RateLimited(max(1, math.ceil((1.0 - tokens) / self.rate)))

    def _evict(self) -> None:
        # A dropped bucket restarts full, which is what an idle caller would have anyway;
        # only under more distinct callers than max_buckets does a busy one get a fresh bucket.
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
