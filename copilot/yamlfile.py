"""Reading the YAML files users write (scenarios, playbooks, offer catalogues), safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tools.errors import InvalidInput

MAX_FILE_BYTES = 512 * 1024


class Located:
    """Line numbers of a YAML document's values, looked up by a pydantic error location."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        node, line = self.root, None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == part), None)
                key = next((k for k, _ in node.value if k.value == part), None)
                if match is None:
                    break
                line, node = (key or match).start_mark.line + 1, match
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        if line is None and node is not None:
            line = node.start_mark.line + 1
        return line


def located(path: Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[Any, Located]:
    """The parsed document and where each value sits, for errors that name the line."""
    data, node = _load(path, what, max_bytes)
    return data, Located(node)


def read_yaml(path: Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """The parsed document; any problem is InvalidInput naming `what`, the file and the line."""
    return _load(path, what, max_bytes)[0]


def _load(path: Path, what: str, max_bytes: int) -> tuple[Any, yaml.Node | None]:
    """One read, one parse: the node tree, and the values yaml.safe_load would give."""
    if not path.is_file():
        raise InvalidInput(what, f"{path} does not exist")
    if path.stat().st_size > max_bytes:
        raise InvalidInput(what, f"{path} is larger than {max_bytes:,} bytes")
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        data = None if node is None else yaml.SafeLoader("").construct_document(node)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(what, f"{path}: not valid YAML{where} ({first})") from None
    return data, node
