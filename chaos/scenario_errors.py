"""Scenario validation errors a person can act on: one per line, with file, line and column.

Pydantic says where an error is as a path of keys (``('faults', 0, 'action')``); the YAML node
tree says where that path is in the file. Each line reads
``scenarios/x.yaml:4:20: faults[0].action: ... (got 'kil'); did you mean 'kill'?``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import yaml


def place_of(loc: Iterable) -> str:
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place or "scenario"


def node_at(root: yaml.Node | None, loc: Iterable) -> yaml.Node | None:
    """The deepest YAML node on the path (the key itself for an unknown key)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            values = [v for k, v in node.value if getattr(k, "value", None) == str(part)]
            if not values:
                return node  # a missing key: the mapping that lacks it
            node = values[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def key_node(root: yaml.Node | None, loc: tuple) -> yaml.Node | None:
    """For an unknown key: the key's own node, so the line points at the misspelling."""
    parent = node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for key, _ in parent.value:
            if getattr(key, "value", None) == str(loc[-1]):
                return key
    return parent


def suggestion(error: dict, vocabulary: dict[str, set[str]]) -> str:
    """``; did you mean 'kill'?`` for a misspelt key, action or target."""
    unknown_key = error["type"] == "extra_forbidden"
    value = error["loc"][-1] if unknown_key else error.get("input")
    if not isinstance(value, str):
        return ""
    expected = error.get("ctx", {}).get("expected")
    if expected:  # a Literal: pydantic lists the allowed values
        words = re.findall(r"'([^']+)'", expected)
    else:
        words = sorted(vocabulary["keys" if unknown_key else "values"])
    close = difflib.get_close_matches(value, words, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close and close[0] != value else ""


def describe(
    error: dict, root: yaml.Node | None, path: str, vocabulary: dict[str, set[str]]
) -> str:
    loc = tuple(error["loc"])
    node = key_node(root, loc) if error["type"] == "extra_forbidden" else node_at(root, loc)
    where = f"{path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node else path
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    value = error.get("input")
    shown = (
        ""
        if isinstance(value, dict | list) or "got" in message or "is not" in message
        else f" (got {value!r})"
    )
    return f"{where}: {place_of(loc)}: {message}{shown}{suggestion(error, vocabulary)}"


def describe_all(
    errors: list[dict], text: str, path: str, vocabulary: dict[str, set[str]]
) -> list[str]:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None
    lines = [describe(error, root, path, vocabulary) for error in errors]
    return sorted(lines, key=_line_number)


def _line_number(line: str) -> int:
    found = re.match(r".*?:(\d+):\d+: ", line)
    return int(found.group(1)) if found else 0
