"""LangChain tools over the siloed systems, scoped to one customer.

The model never names the customer: each tool is bound to the conversation's resolved customer,
and an account or order number that belongs to anyone else is refused before any of its data is
read. Contact points are masked on the way out, so no e-mail or phone reaches a model request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools import identifiers as ids
from tools.base import Systems
from tools.calls import Caller, mask
from tools.errors import CopilotError
from tools.kb.retriever import Retriever

MAX_OUTPUT_CHARS = 6000
T = TypeVar("T")


class NoArguments(BaseModel):
    """This tool takes no arguments: it is bound to the conversation's customer."""


class HistoryArgs(BaseModel):
    limit: int = Field(10, ge=1, le=50, description="how many recent interactions")


class AccountArgs(BaseModel):
    account_number: str = Field(description="a billing account number of THIS customer")


class OrderArgs(BaseModel):
    order_number: str = Field(description="an order number of THIS customer")


class SearchArgs(BaseModel):
    query: str = Field(min_length=2, max_length=500, description="what to look up in the KB")


@dataclass
class ToolLog:
    """What the tools were asked, for provenance and for tests: calls, refusals, passages."""

    calls: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    passages: dict[str, str] = field(default_factory=dict)  # chunk id -> article title


def _dump(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "...(truncated)"


def _masked_profile(profile: Any) -> dict[str, Any]:
    data = dict(profile.model_dump(mode="json"))
    data["contacts"] = [
        {
            **c,
            "value": mask("contact", c.get("value", "")),
            "normalized": mask("contact", c.get("normalized", "")),
        }
        for c in data.get("contacts", [])
    ]
    data["addresses"] = [
        {"kind": a.get("kind"), "city": a.get("city"), "postal_code": "***"}
        for a in data.get("addresses", [])
    ]
    return data


class CustomerTools:
    """Builds the tools for one customer; every call goes through one Caller (timeouts, audit)."""

    def __init__(
        self,
        systems: Systems,
        customer_id: str,
        retriever: Retriever | None = None,
        timeout_s: float = 2.0,
    ) -> None:
        self.systems = systems
        self.customer_id = customer_id
        self.retriever = retriever
        self.caller = Caller(timeout_s=timeout_s)
        self.log = ToolLog()

    async def _call(self, name: str, work: Callable[[], Awaitable[T]]) -> T:
        self.log.calls.append(name)
        try:
            return await work()
        except CopilotError as exc:
            raise ToolException(f"{name} failed: {exc}") from None

    def _refuse(self, what: str) -> ToolException:
        self.log.refusals.append(what)
        return ToolException(
            f"refused: {what} does not belong to this conversation's customer; "
            "tools only reach the customer the agent is talking to"
        )

    async def profile(self) -> str:
        found = await self._call(
            "customer_profile",
            lambda: self.caller("crm", self.systems.crm.get_profile, self.customer_id),
        )
        return _dump(None if found is None else _masked_profile(found))

    async def history(self, limit: int = 10) -> str:
        found = await self._call(
            "customer_history",
            lambda: self.caller("crm", self.systems.crm.get_history, self.customer_id, limit),
        )
        return _dump(found.interactions[:limit] if hasattr(found, "interactions") else found)

    async def accounts(self) -> str:
        found = await self._call(
            "billing_accounts",
            lambda: self.caller(
                "billing", self.systems.billing.get_customer_billing, self.customer_id
            ),
        )
        return _dump(found)

    async def account(self, account_number: str) -> str:
        number = _checked(ids.account_number, account_number, "account_number")
        ref = await self._call(
            "billing_account",
            lambda: self.caller("billing", self.systems.billing.find_account, number),
        )
        if ref is None or ref.customer_id != self.customer_id:
            raise self._refuse(f"account {mask('account', number)}")
        found = await self.caller(
            "billing", self.systems.billing.get_customer_billing, self.customer_id
        )
        return _dump([a for a in found if a.account_number == number])

    async def orders(self) -> str:
        found = await self._call(
            "customer_orders",
            lambda: self.caller(
                "orders", self.systems.orders.get_customer_orders, self.customer_id
            ),
        )
        return _dump(found)

    async def order(self, order_number: str) -> str:
        number = _checked(ids.order_number, order_number, "order_number")
        ref = await self._call(
            "order_details", lambda: self.caller("orders", self.systems.orders.find_order, number)
        )
        if ref is None or ref.customer_id != self.customer_id:
            raise self._refuse(f"order {mask('order', number)}")
        found = await self.caller(
            "orders", self.systems.orders.get_customer_orders, self.customer_id
        )
        return _dump([o for o in found.orders if o.order_number == number])

    async def search(self, query: str) -> str:
        retriever = self.retriever
        if retriever is None:
            raise ToolException("the knowledge base is not configured")
        self.log.calls.append("search_knowledge")
        result = await asyncio.to_thread(retriever.search, query, 4)
        for hit in result.hits:
            self.log.passages[hit.chunk_id] = hit.citation.title
        return _dump(
            [
                {"passage_id": h.chunk_id, "title": h.citation.title, "text": h.text[:800]}
                for h in result.hits
            ]
            or {"message": result.reason or "nothing relevant found"}
        )

    def tools(self) -> list[BaseTool]:
        """The tools, each with a schema derived from its argument model."""
        specs: list[tuple[str, str, type[BaseModel], Callable[..., Awaitable[str]]]] = [
            (
                "customer_profile",
                "The customer's CRM profile (contacts masked).",
                NoArguments,
                self.profile,
            ),
            (
                "customer_history",
                "The customer's recent interactions across channels.",
                HistoryArgs,
                self.history,
            ),
            (
                "billing_accounts",
                "The customer's billing accounts: balance, invoices, autopay, plans, usage.",
                NoArguments,
                self.accounts,
            ),
            (
                "billing_account",
                "One of the customer's billing accounts by number.",
                AccountArgs,
                self.account,
            ),
            (
                "customer_orders",
                "The customer's orders, store purchases and returns.",
                NoArguments,
                self.orders,
            ),
            ("order_details", "One of the customer's orders by number.", OrderArgs, self.order),
        ]
        if self.retriever is not None:
            specs.append(
                (
                    "search_knowledge",
                    "Search the knowledge base; cite results by passage_id.",
                    SearchArgs,
                    self.search,
                )
            )
        return [
            StructuredTool.from_function(
                coroutine=fn,
                name=name,
                description=doc,
                args_schema=schema,
                handle_tool_error=True,
                handle_validation_error=True,
            )
            for name, doc, schema, fn in specs
        ]


def _checked(normalize: Callable[[str], str], value: str, field_name: str) -> str:
    try:
        return normalize(value)
    except CopilotError as exc:
        raise ToolException(f"{field_name}: {exc}") from None
