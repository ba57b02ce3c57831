"""The node's settings: name, default, help. Drives the CLI, the docs and their test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kizuna.core.handling import TLP_ORDER
from kizuna.core.stix.depth import DEPTH_CEILING


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any]


def _tlp(value: str) -> str:
    value = value.strip().lower().removeprefix("tlp:")
    if value not in TLP_ORDER:
        raise ValueError(f"{value!r} is not a TLP 2.0 label ({', '.join(TLP_ORDER)})")
    return value


def _not_clear_tlp(value: str) -> str:
    label = _tlp(value)
    if label == "clear":
        raise ValueError(
            "an event that says nothing about TLP is not TLP:CLEAR; pick green or above"
        )
    return label


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be a positive integer")
    return number


def _object_depth(value: str) -> int:
    number = _positive(value)
    if number > DEPTH_CEILING:
        raise ValueError(f"must be at most {DEPTH_CEILING} (a stored object must stay writable)")
    return number


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "default_tlp",
        "amber",
        "TLP the gate assumes for an object that carries no TLP marking (rule 5).",
        _tlp,
    ),
    Setting(
        "misp_default_tlp",
        "amber",
        "TLP given to an imported MISP event that carries no TLP tag (never clear).",
        _not_clear_tlp,
    ),
    Setting(
        "max_content_length",
        10 * 1024 * 1024,
        "Largest request body, in bytes, the TAXII and JSON APIs accept (413 beyond).",
        _positive,
    ),
    Setting(
        "max_object_depth",
        64,
        "Deepest nesting of dictionaries and lists in one STIX object; a deeper object is"
        f" refused at ingest, alone (at most {DEPTH_CEILING}).",
        _object_depth,
    ),
    Setting(
        "status_lifetime",
        86400,
        "Seconds a TAXII status resource is kept after its POST; later it answers 404.",
        _positive,
    ),
    Setting(
        "request_header_timeout",
        10,
        "Seconds a client has to send a request's headers (from connecting, or from the last"
        " response); then 408 and the connection is closed.",
        _positive,
    ),
    Setting(
        "request_body_timeout",
        60,
        "Seconds a client has to send a request's body once its headers arrived; then 408.",
        _positive,
    ),
    Setting(
        "page_size",
        100,
        "Objects per TAXII page when the client gives no limit.",
        _positive,
    ),
    Setting(
        "max_page_size",
        1000,
        "Largest TAXII page a client may ask for with limit.",
        _positive,
    ),
    Setting(
        "sync_interval",
        60,
        "Seconds between syncs with every peer while `kizuna serve` runs (0: no background sync).",
        lambda v: _positive(v) if v.strip() != "0" else 0,
    ),
    Setting(
        "ledger_checkpoint_entries",
        1000,
        "The ledger's head is signed (a checkpoint, also kept in the node folder's ledger-heads"
        " file) at least every this many entries.",
        _positive,
    ),
    Setting(
        "ledger_checkpoint_minutes",
        10,
        "...and whenever an entry has waited this many minutes for a checkpoint (checked while"
        " `kizuna serve` runs and on every ledger write).",
        _positive,
    ),
    Setting(
        "warninglists",
        "",
        "Folder of MISP warning lists (lists/*/list.json); matches on listed values are flagged"
        " as likely benign. Empty: no flagging.",
        str,
    ),
    Setting(
        "title",
        "kizuna node",
        "Title of the TAXII server in its discovery resource.",
        str,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def resolve(stored: dict[str, str]) -> dict[str, Any]:
    """Every setting's effective value: the stored one where set, else the default."""
    return {s.name: s.parse(stored[s.name]) if s.name in stored else s.default for s in SETTINGS}
