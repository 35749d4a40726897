"""A typed client for the copilot's HTTP API, for bot builders: sync, async, and a LangChain tool.

Every failure reaches the caller as one `CopilotClientError` with the server's own code and
message (or `unreachable` / `timeout` when no answer came), never as an httpx exception or a
page of JSON.

    with CopilotClient("http://127.0.0.1:8000", api_key=BOT_KEY) as copilot:
        accepted = copilot.handoff(HandoffRequest(handoff_id="conv-42", intent="billing_past_due"))
        print(accepted.session_id)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

import httpx
from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_jsonable_python

from copilot.events import Channel
from copilot.handoff import (
    MAX_FIELD,
    MAX_ITEMS,
    MAX_TRANSCRIPT,
    Attempt,
    CustomerRef,
    HandoffAccepted,
    HandoffPacket,
    HandoffRequest,
    Line,
    Origin,
    Verified,
)

T = TypeVar("T")
Json = dict[str, Any]


class CopilotClientError(Exception):
    """The server said no (`status` is its HTTP status) or could not be reached (`status` 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if status == 0 else f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One request and how to read its answer; both clients send the same calls."""

    method: str
    path: str
    body: Any = None
    read: Callable[[Any], T] = lambda data: data


def _seg(value: str) -> str:
    # An id carrying "/" or "?" must stay one path segment, not reach another endpoint.
    return quote(value, safe="")


def _json(value: Any) -> Any:
    # Dicts may hold datetimes or models; the server decides what is valid, in its own words.
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return to_jsonable_python(value)


def _error(response: httpx.Response) -> CopilotClientError:
    try:
        found = response.json()["error"]
        return CopilotClientError(response.status_code, str(found["code"]), str(found["message"]))
    except (ValueError, KeyError, TypeError):
        # Not the copilot's error body: a proxy's page, or another service on that port.
        text = " ".join(response.text.split())[:200] or response.reason_phrase
        return CopilotClientError(response.status_code, "http_error", text)


def _answer(call: _Call[T], response: httpx.Response) -> T:
    if not response.is_success:
        raise _error(response)
    try:
        data = response.json()
    except ValueError:
        raise CopilotClientError(
            response.status_code, "bad_response", f"{call.path} answered with something not JSON"
        ) from None
    try:
        return call.read(data)
    except ValidationError as exc:
        # A server of another version: name a few fields, not the whole document.
        fields = sorted({".".join(map(str, e["loc"])) or "body" for e in exc.errors()})
        shown = ", ".join(fields[:5]) + (f" and {len(fields) - 5} more" if len(fields) > 5 else "")
        raise CopilotClientError(
            response.status_code,
            "bad_response",
            f"the answer to {call.path} is not what this client reads ({shown}); "
            "is the server another version?",
        ) from None


def _failed(url: str, exc: httpx.HTTPError) -> CopilotClientError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return CopilotClientError(0, "timeout", f"no answer from {url} in time ({exc})")
    return CopilotClientError(0, "unreachable", f"cannot reach the copilot at {url} ({exc})")


class _Calls:
    """The API's calls as data; the clients differ only in how they send them."""

    @staticmethod
    def create_session(channel: Channel, session_id: str | None) -> _Call[Json]:
        body: Json = {"channel": channel}
        if session_id is not None:
            body["session_id"] = session_id
        return _Call("POST", "/v1/sessions", body)

    @staticmethod
    def post_event(session_id: str, event: Json) -> _Call[Json]:
        return _Call("POST", f"/v1/sessions/{_seg(session_id)}/events", _json(event))

    @staticmethod
    def post_events(session_id: str, events: list[Json]) -> _Call[list[Json]]:
        body = {"events": _json(events)}
        return _Call("POST", f"/v1/sessions/{_seg(session_id)}/events:batch", body)

    @staticmethod
    def panel(session_id: str) -> _Call[Json]:
        return _Call("GET", f"/v1/sessions/{_seg(session_id)}/panel")

    @staticmethod
    def close_session(session_id: str) -> _Call[Json]:
        return _Call("POST", f"/v1/sessions/{_seg(session_id)}/close")

    @staticmethod
    def handoff(request: HandoffRequest | Json) -> _Call[HandoffAccepted]:
        return _Call("POST", "/v1/handoffs", _json(request), HandoffAccepted.model_validate)

    @staticmethod
    def get_handoff(handoff_id: str) -> _Call[HandoffPacket]:
        return _Call("GET", f"/v1/handoffs/{_seg(handoff_id)}", read=HandoffPacket.model_validate)

    @staticmethod
    def journey(customer_id: str) -> _Call[Json]:
        return _Call("GET", f"/v1/customers/{_seg(customer_id)}/journey")

    @staticmethod
    def schema(name: str) -> _Call[Json]:
        return _Call("GET", f"/schemas/{_seg(name)}")


def _settings(base_url: str, api_key: str, timeout: float) -> Json:
    return {
        "base_url": base_url.rstrip("/"),
        "headers": {"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        "timeout": timeout,
    }


class CopilotClient:
    """The copilot's HTTP API, blocking. Use it as a context manager, or call close()."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(**_settings(base_url, api_key, timeout), transport=transport)

    def _send(self, call: _Call[T]) -> T:
        try:
            response = self._http.request(call.method, call.path, json=call.body)
        except httpx.HTTPError as exc:
            raise _failed(f"{self.base_url}{call.path}", exc) from None
        return _answer(call, response)

    def create_session(self, channel: Channel = "chat", session_id: str | None = None) -> Json:
        """A new session (201); the server makes up the id unless one is given."""
        return self._send(_Calls.create_session(channel, session_id))

    def post_event(self, session_id: str, event: Json) -> Json:
        """One event; the acknowledgement carries the panel version, never the cards."""
        return self._send(_Calls.post_event(session_id, event))

    def post_events(self, session_id: str, events: list[Json]) -> list[Json]:
        """Up to 100 events in order, all checked before any applies."""
        return self._send(_Calls.post_events(session_id, events))

    def panel(self, session_id: str) -> Json:
        return self._send(_Calls.panel(session_id))

    def close_session(self, session_id: str) -> Json:
        return self._send(_Calls.close_session(session_id))

    def handoff(self, request: HandoffRequest | Json) -> HandoffAccepted:
        """Hand the conversation to a human; the same handoff_id again answers duplicate=True."""
        return self._send(_Calls.handoff(request))

    def get_handoff(self, handoff_id: str) -> HandoffPacket:
        return self._send(_Calls.get_handoff(handoff_id))

    def journey(self, customer_id: str) -> Json:
        return self._send(_Calls.journey(customer_id))

    def schema(self, name: str = "handoff-packet.json") -> Json:
        return self._send(_Calls.schema(name))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCopilotClient:
    """The same API as `CopilotClient`, for asyncio bots: `async with`, and await each call."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(**_settings(base_url, api_key, timeout), transport=transport)

    async def _send(self, call: _Call[T]) -> T:
        try:
            response = await self._http.request(call.method, call.path, json=call.body)
        except httpx.HTTPError as exc:
            raise _failed(f"{self.base_url}{call.path}", exc) from None
        return _answer(call, response)

    async def create_session(
        self, channel: Channel = "chat", session_id: str | None = None
    ) -> Json:
        return await self._send(_Calls.create_session(channel, session_id))

    async def post_event(self, session_id: str, event: Json) -> Json:
        return await self._send(_Calls.post_event(session_id, event))

    async def post_events(self, session_id: str, events: list[Json]) -> list[Json]:
        return await self._send(_Calls.post_events(session_id, events))

    async def panel(self, session_id: str) -> Json:
        return await self._send(_Calls.panel(session_id))

    async def close_session(self, session_id: str) -> Json:
        return await self._send(_Calls.close_session(session_id))

    async def handoff(self, request: HandoffRequest | Json) -> HandoffAccepted:
        return await self._send(_Calls.handoff(request))

    async def get_handoff(self, handoff_id: str) -> HandoffPacket:
        return await self._send(_Calls.get_handoff(handoff_id))

    async def journey(self, customer_id: str) -> Json:
        return await self._send(_Calls.journey(customer_id))

    async def schema(self, name: str = "handoff-packet.json") -> Json:
        return await self._send(_Calls.schema(name))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- LangChain ---------------------------------------------------------------------------------


class HandoffContext(BaseModel):
    """What the bot program knows for certain and a model should not retype: who, how verified,
    what was said. `handoff_to_human` reads it when the model calls the tool."""

    model_config = ConfigDict(extra="forbid")

    handoff_id: str
    bot: str = "bot"
    channel: Channel = "chat"
    to_channel: Channel | None = None
    customer: CustomerRef | None = None
    verification: Verified | None = None
    transcript: list[Line] = Field(default_factory=list)
    origin: Origin | None = None


class HandoffArgs(BaseModel):
    """What the model fills in when it decides a person must take over."""

    model_config = ConfigDict(extra="forbid")

    intent: str | None = Field(
        None,
        max_length=64,
        description="the customer's need as a short label, e.g. billing_past_due",
    )
    reason: str | None = Field(
        None, max_length=MAX_FIELD, description="why a person must take over, in one sentence"
    )
    details: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="what the customer already gave, by name (phone, account, order...)",
    )
    tried: list[Attempt] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="actions, articles and answers"
    )
    open_questions: list[str] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="what the customer still wants answered, in their terms",
    )


HANDOFF_TOOL_DESCRIPTION = (
    "Hand the conversation to a human agent when the customer asks for a person or you cannot "
    "resolve their need. Say what they need, what you tried and what is still open; who they "
    "are and the transcript are sent for you. After this, stop answering: a person takes over."
)


def handoff_request(context: HandoffContext, args: HandoffArgs) -> HandoffRequest:
    """The request a tool call makes: the program's facts plus the model's reading.

    A transcript longer than the server takes keeps its newest lines: a long talk still hands off.
    """
    transcript = list(context.transcript)
    if args.reason:
        # The agent reads why the bot gave up in the conversation itself, where it happened.
        transcript.append(
            Line(speaker="system", text=f"handed off: {args.reason}", ts=datetime.now(UTC))
        )
    return HandoffRequest(
        **context.model_dump(exclude={"transcript"}),
        transcript=transcript[-MAX_TRANSCRIPT:],
        intent=args.intent,
        details=args.details,
        tried=args.tried,
        open_questions=args.open_questions,
    )


def _told(accepted: HandoffAccepted) -> str:
    again = " (this handoff had already been accepted)" if accepted.duplicate else ""
    return (
        f"Handed off to a human agent in session {accepted.session_id}{again}. A person takes "
        "over now: tell the customer an agent is joining and has the whole conversation, then "
        "stop answering."
    )


def handoff_tool(
    client: CopilotClient | AsyncCopilotClient,
    conversation: Callable[[], HandoffContext],
    name: str = "handoff_to_human",
) -> StructuredTool:
    """A LangChain tool that hands off through `client`; `conversation` is read at call time.

    The tool answers content and artifact: a ToolMessage from an agent's tool call carries the
    `HandoffAccepted` as its artifact, for the program; the model reads only the sentence.
    A failed handoff reaches the model as a message (it can tell the customer), not a crash.
    """

    def request(fields: dict[str, Any]) -> HandoffRequest:
        return handoff_request(conversation(), HandoffArgs(**fields))

    if isinstance(client, CopilotClient):
        blocking = client

        def run(**fields: Any) -> tuple[str, HandoffAccepted]:
            try:
                accepted = blocking.handoff(request(fields))
            except CopilotClientError as exc:
                raise ToolException(f"the handoff failed: {exc}") from None
            return _told(accepted), accepted

        return _tool(name, func=run)
    asynchronous = client

    async def arun(**fields: Any) -> tuple[str, HandoffAccepted]:
        try:
            accepted = await asynchronous.handoff(request(fields))
        except CopilotClientError as exc:
            raise ToolException(f"the handoff failed: {exc}") from None
        return _told(accepted), accepted

    return _tool(name, coroutine=arun)


def _tool(
    name: str,
    func: Callable[..., tuple[str, HandoffAccepted]] | None = None,
    coroutine: Callable[..., Awaitable[tuple[str, HandoffAccepted]]] | None = None,
) -> StructuredTool:
    return StructuredTool.from_function(
        func=func,
        coroutine=coroutine,
        name=name,
        description=HANDOFF_TOOL_DESCRIPTION,
        args_schema=HandoffArgs,
        response_format="content_and_artifact",
        handle_tool_error=True,
        handle_validation_error=True,
    )
