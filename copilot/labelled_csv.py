"""Training rows from a tenant's CSV: a `text` column and a label column, checked line by line.

Shared by `copilot intents train` and `copilot mood train`, so a bad file reads the same to
whoever supplies it: every problem names its line, the first few are listed, and nothing is
trained on a file with any.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from tools.errors import InvalidInput

MAX_TEXT, MAX_FILE_BYTES, MAX_REPORTED = 2000, 50_000_000, 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

# A label's problem in words (naming no line), or None when the label is fine.
LabelCheck = Callable[[str], str | None]


def clean_text(text: str) -> str:
    """One line of text: control characters and runs of spaces become one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def read_labelled(
    path: Path, columns: tuple[str, ...], check: LabelCheck
) -> tuple[list[tuple[str, str]], list[int]]:
    """(text, label) rows of path and the line each starts on; columns: the label column's
    accepted names, the first being the one the messages name. InvalidInput lists what is wrong."""
    if not path.is_file():
        raise InvalidInput("file", f"{path} does not exist or is not a file")
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput("file", f"{path} is over {MAX_FILE_BYTES:,} bytes")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("file", f"{path}: line {_line_of(raw, exc.start)}: not UTF-8") from None
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        records = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise InvalidInput("file", f"{path}: line {reader.line_num}: {exc}") from None
    name = columns[0]
    label_col = next((c for c in columns if c in header), None)
    if "text" not in header or label_col is None:
        found = ", ".join(header) or "nothing"
        raise InvalidInput(
            "file", f"{path}: line 1: the header needs 'text' and '{name}' columns (has {found})"
        )
    ti, li = header.index("text"), header.index(label_col)
    out: list[tuple[str, str]] = []
    lines: list[int] = []
    problems: list[str] = []
    for line, row in records:  # line_num is the record's last line: quoted newlines span lines
        first = line - sum(f.count("\n") for f in row)
        text = clean_text(row[ti]) if ti < len(row) else ""
        label = row[li].strip() if li < len(row) else ""
        if len(row) > len(header):
            problems.append(
                f"line {first}: {len(row)} fields, the header has {len(header)} "
                "(quote text that holds commas)"
            )
        elif not text:
            problems.append(f"line {first}: empty text")
        elif not label:
            problems.append(f"line {first}: missing {name}")
        elif len(row[ti]) > MAX_TEXT:
            problems.append(f"line {first}: text is {len(row[ti]):,} characters (max {MAX_TEXT})")
        elif (problem := check(label)) is not None:
            problems.append(f"line {first}: {problem}")
        else:
            out.append((text, label))
            lines.append(first)
    if problems:
        more = len(problems) - MAX_REPORTED
        tail = f" (and {more} more)" if more > 0 else ""
        raise InvalidInput("file", f"{path}: " + "; ".join(problems[:MAX_REPORTED]) + tail)
    if not out:
        raise InvalidInput("file", f"{path}: no rows under the header")
    return out, lines
