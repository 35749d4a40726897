"""Every call into a siloed system goes through a Caller: a timeout and a ToolCall audit record."""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict

from tools.errors import CopilotError, InvalidInput, SystemUnavailable

P = ParamSpec("P")
T = TypeVar("T")

_EMAIL = re.compile(r"^([^@]{1})[^@]*(@.+)$")


class ToolCall(BaseModel):
    """Provenance of one call: the system, the masked arguments, how long, what came of it."""

    model_config = ConfigDict(frozen=True)

    id: str
    system: str
    operation: str
    arguments: dict[str, str]
    started_at: datetime
    latency_ms: float
    outcome: Literal["ok", "empty", "error", "timeout", "invalid"]
    error: str | None = None


def mask(name: str, value: object) -> str:
    """Mask an argument for the audit log: identifiers keep only enough to recognise them."""
    text = str(value)
    if name in {"customer_id", "customer_ids", "limit", "tolerance_days", "kind", "on", "amount"}:
        return text
    if "@" in text:
        match = _EMAIL.match(text)
        return f"{match.group(1)}***{match.group(2)}" if match else "***"
    if name == "card_last4":
        return f"****{text}"
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


@functools.lru_cache(maxsize=512)
def _signature(fn: Callable[..., object]) -> inspect.Signature:
    # Reading a signature costs more than a SQLite lookup; connectors' methods are few and fixed.
    return inspect.signature(fn)


def _arguments(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> dict[str, str]:
    """The call's arguments by name, masked; a bound method is read through its function."""
    target, lead = getattr(fn, "__func__", None), getattr(fn, "__self__", None)
    try:
        if target is not None:
            bound = _signature(target).bind(lead, *args, **kwargs)
            named = list(bound.arguments.items())[1:]
        else:
            named = list(_signature(fn).bind(*args, **kwargs).arguments.items())
    except (TypeError, ValueError):
        return {}
    return {k: mask(k, v) for k, v in named}


def _is_empty(result: object) -> bool:
    if result is None:
        return True
    if isinstance(result, list):
        return not result
    return False


@dataclass
class Caller:
    """Runs system calls with a timeout and keeps their ToolCall records, in call order."""

    timeout_s: float = 2.0
    calls: list[ToolCall] = field(default_factory=list)

    async def __call__(
        self, system: str, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        operation = getattr(fn, "__name__", "call")
        arguments = _arguments(fn, args, kwargs)
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        outcome: Literal["ok", "empty", "error", "timeout", "invalid"] = "ok"
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await fn(*args, **kwargs)
            if _is_empty(result):
                outcome = "empty"
            return result
        except TimeoutError as exc:
            outcome, error = "timeout", f"no answer within {self.timeout_s:g} s"
            raise SystemUnavailable(system, error) from exc
        except InvalidInput as exc:
            outcome, error = "invalid", exc.message
            raise
        except CopilotError as exc:
            outcome, error = "error", exc.message
            raise
        except Exception as exc:
            # A connector bug or driver error must not leak a stack trace to the agent.
            outcome, error = "error", f"{type(exc).__name__}"
            raise SystemUnavailable(system, f"{operation} failed ({type(exc).__name__})") from exc
        finally:
            self.calls.append(
                ToolCall(
                    id=f"tc_{uuid.uuid4().hex[:12]}",
                    system=system,
                    operation=operation,
                    arguments=arguments,
                    started_at=started_at,
                    latency_ms=round((time.perf_counter() - start) * 1000, 2),
                    outcome=outcome,
                    error=error,
                )
            )
