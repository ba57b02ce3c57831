"""How deeply a JSON value nests, measured without recursion (so any depth can be measured).

An object nested deeper than the node's ``max_object_depth`` is refused at ingest, per object:
deep nesting buys nothing in STIX and costs every layer that walks or serialises the object
(orjson stops at 255 levels; Python's recursion at about 1,000).
"""

from __future__ import annotations

import re
from typing import Any

# The most ``max_object_depth`` may be: a stored object must stay serialisable by orjson,
# which refuses to write more than 254 nested levels, with room for the envelope around it.
DEPTH_CEILING = 200


def nesting_depth(value: Any, stop_above: int) -> int:
    """Levels of dicts and lists in ``value`` (a scalar is 0), or ``stop_above + 1`` if deeper."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if level > stop_above:
            return stop_above + 1
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


# Documents nested deeper than this are not parsed at all (orjson's own limit is 1,024).
DOCUMENT_DEPTH_LIMIT = 1024

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_UNIFY = bytes.maketrans(b"{}", b"[]")


class DepthScanner:
    """The deepest nesting of a JSON text read in chunks, outside strings, in bounded memory.

    A streaming parser builds whatever nesting it is given before anything can look at it; a
    10 MB file of ``[`` is five million nested lists. Fed every chunk before the parser sees
    it, this tells how deep the text has gone so far, at the cost of a few C-speed passes.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._carry = b""  # a chunk's last byte when it is a backslash (its escape continues)

    def feed(self, chunk: bytes) -> int:
        """Read one more chunk; the deepest nesting so far."""
        data = self._carry + chunk
        self._carry = b""
        if data.endswith(b"\\") and _odd_backslashes(data):
            data, self._carry = data[:-1], b"\\"
        data = _ESCAPE.sub(b"", data)
        parts = data.split(b'"')
        outside = parts[1::2] if self._in_string else parts[0::2]
        if len(parts) % 2 == 0:
            self._in_string = not self._in_string
        brackets = b"".join(outside).translate(_UNIFY, _NOT_BRACKETS)
        depth, deepest = self.depth, self.deepest
        for byte in brackets:
            if byte == 0x5B:  # [
                depth += 1
                if depth > deepest:
                    deepest = depth
            else:
                depth -= 1
        self.depth, self.deepest = depth, deepest
        return deepest


def _odd_backslashes(data: bytes) -> bool:
    """Whether ``data`` ends in an odd run of backslashes (the last one escapes what follows)."""
    run = len(data) - len(data.rstrip(b"\\"))
    return run % 2 == 1
