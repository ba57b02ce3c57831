"""Prometheus metrics of one node: requests, objects stored and refused, gate decisions."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

if TYPE_CHECKING:
    from kizuna.core.policy import Decision
    from kizuna.services.gate import Release
    from kizuna.storage.objects import StoredVersion


class Metrics:
    """Counters in a registry of their own, so several nodes can run in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kizuna_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kizuna_http_request_seconds",
            "HTTP request duration",
            ["route"],
            registry=self.registry,
        )
        self.stored = Counter(
            "kizuna_objects_stored", "Object versions stored", ["path"], registry=self.registry
        )
        self.unchanged = Counter(
            "kizuna_objects_unchanged",
            "Object versions submitted again unchanged",
            ["path"],
            registry=self.registry,
        )
        self.refused = Counter(
            "kizuna_objects_refused",
            "Objects refused at ingest",
            ["path", "reason"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "kizuna_gate_decisions", "Gate decisions", ["outcome", "rule"], registry=self.registry
        )

    def gate(
        self, released: Sequence[Release], withheld: Sequence[tuple[StoredVersion, Decision]]
    ) -> None:
        # Tally first, then one increment per label set: labels() costs more than the tally.
        tally: Tally[tuple[str, str]] = Tally()
        for r in released:
            rules = r.decision.rules
            tally[r.decision.outcome, str(rules[0] if rules else -1)] += 1
        for _, d in withheld:
            refusal = d.refusal
            tally["withhold", str(refusal.rule if refusal else -1)] += 1
        for labels, count in tally.items():
            self.decisions.labels(*labels).inc(count)

    def ingest(self, path: str, outcomes: Sequence[Any]) -> None:
        tally: Tally[tuple[str, str]] = Tally(
            (o.status, o.error.code if o.error else "unknown") for o in outcomes
        )
        for (status, reason), count in tally.items():
            if status == "stored":
                self.stored.labels(path).inc(count)
            elif status == "unchanged":
                self.unchanged.labels(path).inc(count)
            else:
                self.refused.labels(path, reason).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
