"""The project's one error family. Connectors raise it; the server maps it to HTTP once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class CopilotError(Exception):
    """Base of every error meant for a user or an operator, never a stack trace."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CopilotError):
    """A value the caller sent is malformed, oversized or of the wrong kind."""

    status_code = 400
    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(CopilotError):
    """The thing asked for does not exist in the system of record."""

    status_code = 404
    code = "not_found"


class SystemUnavailable(CopilotError):
    """A siloed system failed, timed out or has its circuit open."""

    status_code = 503
    code = "system_unavailable"

    def __init__(self, system: str, message: str) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system


class ConfigurationError(CopilotError):
    """Settings are missing or inconsistent; the message names what to set."""

    code = "configuration_error"


def first_problem(exc: ValidationError) -> str:
    """A pydantic error in one line for a user: where its first problem is, what is wrong
    there, and how many more there are."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the file"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
