"""Reading the YAML files users write (scenarios, playbooks, offer catalogues), safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tools.errors import InvalidInput

MAX_FILE_BYTES = 512 * 1024


def read_yaml(path: Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """The parsed document; any problem is InvalidInput naming `what`, the file and the line."""
    if not path.is_file():
        raise InvalidInput(what, f"{path} does not exist")
    if path.stat().st_size > max_bytes:
        raise InvalidInput(what, f"{path} is larger than {max_bytes:,} bytes")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(what, f"{path}: not valid YAML{where} ({first})") from None
