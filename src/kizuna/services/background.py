"""Background work runs once per node, not once per process: the sync loop and the ledger's
checkpoint loop do their work only in the process that holds the node's lease
(storage.lease). Every serving process tries to take it each ``TRY_SECONDS``; when its holder
dies, another takes it within that time and carries on from what the database says (a peer's
cursor, the last checkpoint), so nothing is pulled twice and nothing is left undone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from kizuna.services.node import Node
from kizuna.storage.lease import Lease

log = logging.getLogger("kizuna.background")
TRY_SECONDS = 1.0


def leading(node: Node) -> bool:
    """Whether this process should do the node's background work now. Outside ``kizuna
    serve`` (no lease is being sought), it should."""
    lease = node.cache.get("lease")
    return not isinstance(lease, Lease) or lease.held()


def _take(node: Node, lease: Lease, was: bool) -> bool:
    held = lease.take()
    if held and not was:
        log.info("this process (pid %d) now does the node's background work", os.getpid())
    return held


@contextlib.asynccontextmanager
async def while_serving(node: Node) -> AsyncIterator[None]:
    """Seek the lease while the server runs; give it back when it stops."""
    lease = Lease(node.db, node.home)
    held = await asyncio.to_thread(_take, node, lease, False)
    node.cache["lease"] = lease

    async def seek() -> None:
        nonlocal held
        while True:
            await asyncio.sleep(TRY_SECONDS)
            try:
                held = await asyncio.to_thread(_take, node, lease, held)
            except Exception:
                log.exception("seeking the background lease failed")

    task = asyncio.create_task(seek())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        node.cache.pop("lease", None)
        await asyncio.to_thread(lease.release)
