"""The plan of one write action: worked out once from the records, then previewed or performed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Executable

# A preview writes nothing, so the ids of the rows it would write are never shown.
PREVIEW_KEY = "PREVIEW"


@dataclass(frozen=True)
class Plan:
    """What one action will write and how to say it: `will` before, `did` after."""

    customer_id: str
    reference: str
    will: str
    did: str
    changes: dict[str, str]
    writes: tuple[Executable, ...]

    def write(self, conn: Connection) -> None:
        """Run the plan's statements in the caller's transaction."""
        for statement in self.writes:
            conn.execute(statement)


def money(value: float) -> str:
    return f"${value:,.2f}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
