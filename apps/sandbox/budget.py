"""The sandbox's request budget (a sliding log per system) and its injected faults."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    force_429: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {"latency": self.latency, "error_rate": self.error_rate, "force_429": self.force_429}


@dataclass
class Budget:
    """At most `limit` requests in any trailing `window` seconds, like MiniCRM's 429."""

    limit: int
    window: float
    faults: Faults = field(default_factory=Faults)
    _log: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    def admit(self) -> tuple[str, int]:
        """Decide one request: ("ok", 0), ("429", retry_after_seconds) or ("500", 0)."""
        with self._lock:
            now = time.monotonic()
            if self.faults.force_429 > 0:
                self.faults.force_429 -= 1
                return "429", 1
            while self._log and self._log[0] <= now - self.window:
                self._log.popleft()
            if len(self._log) >= self.limit:
                retry = self._log[0] + self.window - now
                return "429", max(1, math.ceil(retry))
            self._log.append(now)
            if self.faults.error_rate and self._random.random() < self.faults.error_rate:
                return "500", 0
            return "ok", 0
