"""``kizuna demo``: four sovereign nodes on loopback, sharing under their agreements.

Every claim the story makes is checked against the nodes as it is told; ``--once`` exits 1 if
any check failed, so the demo is also an end-to-end test of the federation.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import click
import httpx
import uvicorn
from rich.console import Console

from kizuna.cli.context import Env
from kizuna.core.handling import Classification
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.http.app import create_app
from kizuna.services import (
    agreements,
    consents,
    explain,
    federation_messages,
    importer,
    ingest,
    ledger,
    parties,
    peers,
    sync,
    tokens,
    users,
)
from kizuna.services.node import Node, init_node

pass_env = click.make_pass_decorator(Env)

# name, city, jurisdiction, kind, classification scheme
CAST = (
    ("CERT-EU", "Brussels", "EU", "csirt", "EU"),
    ("BSI", "Berlin", "DE", "government", "DE"),
    ("NISC", "Tokyo", "JP", "government", "JP"),
    ("Maritime ISAC", "Hamburg", "DE", "private", None),
)
AGREEMENTS = ("partnership-v1.yaml", "eu-japan.yaml", "germany-japan.yaml", "germany-industry.yaml")


@dataclass
class Demo:
    console: Console
    base: Path
    host: str
    port: int
    nodes: dict[str, Node] = field(default_factory=dict)
    servers: list[uvicorn.Server] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port + [c[0] for c in CAST].index(name)}/"

    def say(self, text: str) -> None:
        self.console.print(text, soft_wrap=True)

    def check(self, claim: str, ok: bool) -> None:
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"   {mark} {claim}")
        if not ok:
            self.failures.append(claim)

    def holds(self, name: str, object_id: str) -> bool:
        try:
            explain.local_view(self.nodes[name], object_id)
        except Exception:
            return False
        return True

    async def sync_everyone(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            results = await asyncio.gather(
                *(sync.sync_all(n, timeout=10) for n in self.nodes.values())
            )
            for name, node_results in zip(self.nodes, results, strict=True):
                for r in node_results:
                    if r.error:
                        self.say(f"   [yellow]sync {name} ← {r.peer}: {r.error}[/]")


class _QuietServer(uvicorn.Server):
    """Several servers in one event loop: the demo handles Ctrl-C for all of them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _start(demo: Demo) -> None:
    for name, node in demo.nodes.items():
        port = int(demo.url(name).rsplit(":", 1)[1].strip("/"))
        config = uvicorn.Config(
            create_app(node), host=demo.host, port=port, log_level="warning", lifespan="off"
        )
        server = _QuietServer(config)
        demo.servers.append(server)
        demo.tasks.append(asyncio.create_task(server.serve()))
    while not all(s.started for s in demo.servers):
        await asyncio.sleep(0.05)


def _setup(demo: Demo) -> None:
    if demo.base.exists():
        shutil.rmtree(demo.base)
    demo.say("[bold]1. Four partners each start a node of their own.[/]")
    for name, city, jurisdiction, kind, scheme in CAST:
        node = init_node(
            demo.base / name.lower().replace(" ", "-"),
            party_name=name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
        )
        demo.nodes[name] = node
        demo.say(f"   {name} ({city}): {demo.url(name)}  folder {node.home}")
    examples = resources.files("kizuna") / "data" / "examples"
    with resources.as_file(examples) as folder:
        report = importer.import_paths(demo.nodes["CERT-EU"], [Path(folder)])
    demo.say(
        f"   CERT-EU loads kizuna's example data: {report.stored} objects of a fictitious campaign."
    )
    demo.say("   They exchange public keys out of band and issue each other tokens.")
    for name, node in demo.nodes.items():
        for other, other_node in demo.nodes.items():
            if other != name:
                p = other_node.home_party
                parties.add_party(
                    node,
                    p.name,
                    jurisdiction=p.jurisdiction,
                    kind=p.kind,
                    scheme=p.scheme,
                    party_id=p.id,
                    public_keys=(other_node.public_key,),
                )
    for name, node in demo.nodes.items():
        for other, other_node in demo.nodes.items():
            if other != name:
                peers.add(
                    node, demo.url(other), other, tokens.create(other_node, name, "demo-peer").value
                )


async def _agree(demo: Demo) -> None:
    demo.say(
        "\n[bold]2. They agree: each agreement is drafted by one partner, "
        "signed by each on its own node.[/]"
    )
    folder = resources.files("kizuna") / "data" / "agreements"
    drafts = []
    for filename in AGREEMENTS:
        with resources.as_file(folder / filename) as path:
            template = agreements.load_document(Path(path))
        drafter = demo.nodes[template["parties"][0]]
        draft = agreements.from_template(drafter, template)
        agreements.add(drafter, draft)
        agreements.sign(drafter, draft["id"])
        drafts.append(draft)
    await demo.sync_everyone(rounds=1)  # the drafts travel to the other parties' nodes
    for draft in drafts:
        for entry in draft["parties"][1:]:
            agreements.sign(demo.nodes[entry["name"]], draft["id"])
    await demo.sync_everyone()  # the signatures meet
    for draft in drafts:
        names = [p["name"] for p in draft["parties"]]
        active = all(
            agreements.get(demo.nodes[n], draft["id"]).agreement.inactive_reason(
                demo.nodes[n].now()
            )
            is None
            for n in names
        )
        demo.check(f"{draft['title']}: active at {', '.join(names)}", active)


def _indicator(
    node: Node, name: str, pattern: str, markings: list[str], **extra: Any
) -> dict[str, Any]:
    now = format_timestamp(node.now())
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": node.new_id("indicator"),
        "created": now,
        "modified": now,
        "created_by_ref": node.home_party.id,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": now,
        "object_marking_refs": markings,
        **extra,
    }


def _publish(node: Node, *objects: dict[str, Any]) -> None:
    for o in ingest.ingest(node, list(objects), submitter=node.home_party, path="import"):
        if o.error is not None:
            raise o.error


async def _story(demo: Demo) -> None:
    eu, bsi, nisc = (demo.nodes[c[0]] for c in CAST[:3])
    demo.say("\n[bold]3. BSI shares a VS-VERTRAULICH indicator.[/]")
    marking = handling_marking(
        bsi.new_id("marking-definition"),
        format_timestamp(bsi.now()),
        bsi.home_party.id,
        classification=Classification("DE", "VS-VERTRAULICH"),
        name="VS-VERTRAULICH",
    )
    secret = _indicator(
        bsi,
        "C2 of a state actor",
        "[domain-name:value = 'update-check.example']",
        [TLP_MARKING_ID["amber"], marking["id"]],
    )
    _publish(bsi, marking, secret)
    await demo.sync_everyone()
    view = explain.local_view(nisc, secret["id"])
    seen = f"{view.local_level.scheme} {view.local_level.level}" if view.local_level else "nothing"
    demo.check(
        f"Tokyo holds it and sees DE VS-VERTRAULICH as {seen} (under {view.under})",
        view.local_level == Classification("JP", "秘"),
    )
    demo.check(
        "the Maritime ISAC (no clearance) does not hold it",
        not demo.holds("Maritime ISAC", secret["id"]),
    )

    demo.say("\n[bold]4. CERT-EU shares an indicator TLP:AMBER+STRICT.[/]")
    strict = _indicator(
        eu,
        "Spear-phishing sender",
        "[email-addr:value = 'visa-office@mail.example']",
        [TLP_MARKING_ID["amber+strict"]],
    )
    _publish(eu, strict)
    await demo.sync_everyone()
    demo.check(
        "BSI and NISC, its first recipients, hold it",
        demo.holds("BSI", strict["id"]) and demo.holds("NISC", strict["id"]),
    )
    refusal = explain.explain(bsi, strict["id"], parties.find(bsi, "Maritime ISAC"))[
        -1
    ].decision.refusal
    demo.check(
        f"BSI may not pass it on to the ISAC: rule {refusal.rule if refusal else '?'}, "
        f"{refusal.sentence if refusal else ''}",
        refusal is not None and refusal.rule == 5,
    )
    demo.check(
        "it stops there: the ISAC does not hold it", not demo.holds("Maritime ISAC", strict["id"])
    )

    demo.say(
        "\n[bold]5. CERT-EU shares a TLP:AMBER indicator that needs its consent "
        "before onward release.[/]"
    )
    ask = handling_marking(
        eu.new_id("marking-definition"),
        format_timestamp(eu.now()),
        eu.home_party.id,
        release_rule="originator-consent",
        name="originator consent",
    )
    amber = _indicator(
        eu,
        "Loader staging server",
        "[ipv4-addr:value = '203.0.113.77']",
        [TLP_MARKING_ID["amber"], ask["id"]],
    )
    _publish(eu, ask, amber)
    await demo.sync_everyone()
    isac_party = parties.find(bsi, "Maritime ISAC")
    refusal = explain.explain(bsi, amber["id"], isac_party)[-1].decision.refusal
    demo.check(
        f"BSI holds it, but onward to the ISAC is refused: rule {refusal.rule if refusal else '?'}",
        demo.holds("BSI", amber["id"])
        and refusal is not None
        and not demo.holds("Maritime ISAC", amber["id"]),
    )
    federation_messages.request_consent(
        bsi, [amber["id"]], "Maritime ISAC", "ports in our sector see this IP"
    )
    await demo.sync_everyone()
    asked = [r for r in federation_messages.consent_requests(eu) if amber["id"] in r["object_refs"]]
    demo.check("BSI's consent request reached CERT-EU", bool(asked))
    consents.grant(
        eu,
        expires_us=eu.now() + 30 * 86_400_000_000,
        objects=[amber["id"]],
        parties=["Maritime ISAC"],
    )
    await demo.sync_everyone(rounds=3)
    demo.check(
        "CERT-EU consented: BSI released it to the ISAC", demo.holds("Maritime ISAC", amber["id"])
    )
    receipts = ledger.receipts(eu, amber["id"])
    demo.check(
        f"a receipt came back to CERT-EU: BSI released it to {isac_party.name}",
        any(r["recipient_ref"] == isac_party.id for r in receipts),
    )

    demo.say("\n[bold]6. Someone on the path from Berlin to Tokyo alters an object in transit.[/]")
    green = _indicator(
        bsi, "Botnet controller", "[ipv4-addr:value = '198.51.100.14']", [TLP_MARKING_ID["green"]]
    )
    _publish(bsi, green)
    record = next(r for r in peers.all_peers(nisc) if r.party_id == bsi.home_party.id)
    await sync.sync_peer(nisc, record, transport=_Tamper(b"198.51.100.14", b"198.51.100.15"))
    view = explain.local_view(nisc, green["id"])
    demo.check(
        f"Tokyo quarantined it: {view.handling.quarantine}", view.handling.quarantine is not None
    )
    refusal = explain.explain(nisc, green["id"], parties.find(nisc, "CERT-EU"))[-1].decision.refusal
    demo.check(
        "and will never release it onward",
        refusal is not None and "quarantined" in refusal.sentence,
    )


class _Tamper(httpx.AsyncBaseTransport):
    """An attacker on the path: rewrites bytes in every response."""

    def __init__(self, old: bytes, new: bytes) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.old, self.new = old, new

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = (await response.aread()).replace(self.old, self.new)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _summary(demo: Demo) -> None:
    demo.say("[bold]The nodes[/] (tokens are for each node's own home party, shown once):")
    for name, city, *_ in CAST:
        node = demo.nodes[name]
        token = tokens.create(node, node.home_party.id, "demo").value
        held = sum(1 for _ in explain.preview(node, node.home_party))
        demo.say(f"   {name} ({city})  {demo.url(name)}  {held} objects")
        demo.console.print(f"      token {token}", soft_wrap=True)
        password = users.first_login(node)
        demo.console.print(
            f"      console {demo.url(name)}/  user admin  password {password}", soft_wrap=True
        )


async def _run(demo: Demo, once: bool) -> int:
    _setup(demo)
    await _start(demo)
    try:
        await _agree(demo)
        await _story(demo)
        from kizuna.cli import demo_attribution

        await demo_attribution.chapter(demo, 7)
        demo.say("")
        _summary(demo)
        if demo.failures:
            demo.say(f"[red]{len(demo.failures)} claims did not hold.[/]")
        if not once:
            demo.say(
                "The nodes keep serving (TAXII at /taxii2/, API at /api/docs). Ctrl-C stops them."
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
    finally:
        for s in demo.servers:
            s.should_exit = True
        await asyncio.sleep(0.3)
        for node in demo.nodes.values():
            node.close()
    return 1 if demo.failures else 0


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the nodes listen on.")
@click.option(
    "--port", default=8470, show_default=True, type=int, help="First of four consecutive ports."
)
@click.option("--once", is_flag=True, help="Tell the story and exit (status 1 if a claim failed).")
@pass_env
def demo(env: Env, host: str, port: int, once: bool) -> None:
    """Run four partner nodes on loopback and tell what they share, and why.

    CERT-EU (Brussels), BSI (Berlin), NISC (Tokyo) and a private Maritime ISAC (Hamburg) each
    run a node with its own folder and SQLite under HOME/demo (made afresh each run). They sign
    the example agreements and share: a German VS-VERTRAULICH object reaches Tokyo at its
    Japanese equivalent, a TLP:AMBER+STRICT object stops at its first recipients, an onward
    release waits for the originator's consent and a receipt comes back, and a tampered object
    is quarantined. The nodes then keep serving until Ctrl-C (or exit with --once).
    """
    for offset in range(len(CAST)):
        with socket.socket() as probe:
            try:
                probe.bind((host, port + offset))
            except OSError as exc:
                raise click.ClickException(
                    f"port {port + offset} on {host} is not free ({exc.strerror}); "
                    "choose four free ports with --port"
                ) from exc
    console = Console()
    result = asyncio.run(_run(Demo(console, env.home / "demo", host, port), once))
    raise SystemExit(result)


COMMANDS = [demo]
