"""The load of a hub, for locust (headless, bounded; run by ``bench/bench_load.py``).

50 partners poll the "released to you" collection by ``added_after`` (each from where its last
page ended, following ``more``), and 2 feeds post envelopes of indicators to the inbox. Tokens
come from the JSON file named by ``KIZUNA_LOAD_TOKENS`` ({"partners": [...], "feeds": [...]}).
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from typing import Any

from locust import HttpUser, between, constant, task

RELEASED = "0d2d5b8e-6a0c-5e7b-9f5c-6b1c1d1f0a02"
INBOX = "0d2d5b8e-6a0c-5e7b-9f5c-6b1c1d1f0a01"
MEDIA = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
ENVELOPE = int(os.environ.get("KIZUNA_LOAD_ENVELOPE", "50"))

with open(os.environ["KIZUNA_LOAD_TOKENS"]) as _f:
    _TOKENS: dict[str, Any] = json.load(_f)
_partners = itertools.cycle(_TOKENS["partners"])
_feeds = itertools.cycle(_TOKENS["feeds"])


class Partner(HttpUser):
    """A partner polling for what is new, about once a second."""

    weight = 50
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.token = next(_partners)
        self.after: str | None = None
        self.headers = {"Authorization": f"Bearer {self.token}", "Accept": MEDIA}

    @task
    def poll(self) -> None:
        more = True
        while more:
            params = {"limit": "100"}
            if self.after:
                params["added_after"] = self.after
            with self.client.get(
                f"/taxii2/root/collections/{RELEASED}/objects/",
                params=params,
                headers=self.headers,
                name="poll",
                catch_response=True,
            ) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                    return
                body = r.json()
                self.after = r.headers.get("X-TAXII-Date-Added-Last") or self.after
                more = bool(body.get("more"))


class Feed(HttpUser):
    """A feed posting an envelope of new indicators every second."""

    fixed_count = 2
    wait_time = constant(1)

    def on_start(self) -> None:
        feed = next(_feeds)
        self.party, self.token = feed["party"], feed["token"]
        self.headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": MEDIA,
            "Content-Type": MEDIA,
        }

    @task
    def post(self) -> None:
        objects = [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "created_by_ref": self.party,
                "name": "load",
                "pattern": f"[ipv4-addr:value = '10.{n % 250}.{n // 250 % 250}.1']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
                "object_marking_refs": [GREEN],
            }
            for n in range(ENVELOPE)
        ]
        with self.client.post(
            f"/taxii2/root/collections/{INBOX}/objects/",
            data=json.dumps({"objects": objects}),
            headers=self.headers,
            name="post",
            catch_response=True,
        ) as r:
            if r.status_code != 202 or r.json().get("failure_count"):
                r.failure(f"{r.status_code}: {r.text[:200]}")
