"""A tiny YAML emitter (block style) for Postern config files: dicts, lists and scalars.

Strings are written double-quoted with JSON escapes, which YAML accepts; keys are
written plain. Only what the tests need, deliberately (the harness is stdlib only).
"""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    v = str(v)
    if _PLAIN.match(v) and v.lower() not in _RESERVED:
        return v
    return json.dumps(v)


def _key(k) -> str:
    k = str(k)
    if k and all(c.isalnum() or c in "_-" for c in k):
        return k
    return json.dumps(k)


def _emit(v, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, dict) and x:
                out.append(f"{pad}{_key(k)}:")
                _emit(x, indent + 1, out)
            elif isinstance(x, list) and x:
                out.append(f"{pad}{_key(k)}:")
                _emit(x, indent + 1, out)
            elif isinstance(x, (dict, list)):
                out.append(f"{pad}{_key(k)}: {'{}' if isinstance(x, dict) else '[]'}")
            else:
                out.append(f"{pad}{_key(k)}: {_scalar(x)}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict) and x:
                sub: list[str] = []
                _emit(x, indent + 1, sub)
                first = sub[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            elif isinstance(x, list) and x:
                out.append(f"{pad}-")
                _emit(x, indent + 1, out)
            else:
                out.append(f"{pad}- {_scalar(x) if not isinstance(x, (dict, list)) else ('{}' if isinstance(x, dict) else '[]')}")
    else:
        out.append(f"{pad}{_scalar(v)}")


def dump(data) -> str:
    out: list[str] = []
    _emit(data, 0, out)
    return "\n".join(out) + "\n"
