"""What the server logs about a request: its path, never the secrets or identifiers in its URL.

Keys come as `?access_token=` on streams (a browser's EventSource cannot send headers) and as
`?token=` on the console's link; customers' phones and emails as `/v1/customers/resolve?phone=`.
The access log keeps each parameter's name and masks its value, but for the few that say
nothing about anyone.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

SAFE = frozenset({"state", "limit", "last_event_id"})
MASK = "***"
LOGGERS = ("uvicorn.access", "uvicorn.error")


def masked_target(target: str) -> str:
    """The path with every query value but the harmless ones masked."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v if k in SAFE else MASK) for k, v in pairs]
    return f"{path}?{urlencode(kept, safe='*')}"


class QueryMask(logging.Filter):
    """Masks request targets among a record's arguments: uvicorn's access lines, and the
    WebSocket lines it writes to its error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                masked_target(a) if isinstance(a, str) and a.startswith("/") else a
                for a in record.args
            )
        return True


def install() -> None:
    """Once per process, however many apps are built."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryMask) for f in logger.filters):
            logger.addFilter(QueryMask())
