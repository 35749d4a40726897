"""What the model may write: structured outputs, validated by pydantic before policy sees them."""

from __future__ import annotations

import copy
from typing import Any, Literal

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

WRITE_CARDS = "write_cards"
ANSWER = "answer_agent"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NextActionDraft(_Strict):
    step_id: str = Field(max_length=80, description="id of a playbook step listed in the prompt")
    rationale: str = Field(max_length=400, description="one sentence citing the customer's data")


class OfferDraft(_Strict):
    offer_id: str = Field(max_length=80, description="id of the offer listed as allowed, only")
    pitch: str = Field(max_length=400, description="one or two sentences the agent can say")


class ActionDraft(_Strict):
    kind: Literal[
        "update_autopay",
        "take_payment",
        "waive_late_fee",
        "change_plan",
        "start_return",
        "start_exchange",
    ]
    arguments: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="line_id, plan_code, order_number, item_id, reason, amount; the account "
        "and a payment method the session holds are filled in",
    )
    why: str = Field("", max_length=300)


class PanelDraft(_Strict):
    """Everything the model writes for the side panel in one turn."""

    summary: str = Field(max_length=1500, description="the running summary, updated, <= 80 words")
    next_action: NextActionDraft | None = Field(None, description="why the next step, now")
    reply_draft: str = Field(
        "", max_length=800, description="the agent's next message, <= 60 words"
    )
    offer: OfferDraft | None = Field(None, description="only when an offer is listed as allowed")
    citations: list[str] = Field(
        default_factory=list, max_length=6, description="passage ids the reply or summary rests on"
    )
    actions: list[ActionDraft] = Field(
        default_factory=list, max_length=3, description="write actions for the agent to approve"
    )


class AnswerDraft(_Strict):
    """The copilot's answer to the agent's own question."""

    answer: str = Field(max_length=1200, description="short, factual, for the agent")
    citations: list[str] = Field(default_factory=list, max_length=6, description="passage ids")


# Not sent: titles (the model reads descriptions; each token is paid every turn) and string
# bounds, which grammar engines (llama.cpp's GBNF) unroll into one rule per character and fail
# to build; the drafts' own models enforce them once the call is parsed.
_UNSENT = frozenset({"title", "maxLength"})


def _lean(node: Any) -> Any:
    """The schema as sent to the model: without what _UNSENT names."""
    if isinstance(node, dict):
        return {k: _lean(v) for k, v in node.items() if k not in _UNSENT}
    if isinstance(node, list):
        return [_lean(v) for v in node]
    return node


def lean_tool(tool: Any) -> dict[str, Any]:
    """A LangChain tool (or function) as an OpenAI tool, its parameters as sent (_lean)."""
    spec = convert_to_openai_tool(tool)
    spec["function"]["parameters"] = _lean(spec["function"].get("parameters", {}))
    return spec


def tool_spec(name: str, model: type[BaseModel], description: str) -> dict[str, Any]:
    """An OpenAI tool whose parameters are derived from the pydantic model."""
    spec = convert_to_openai_tool(model)
    spec["function"]["name"] = name
    spec["function"]["description"] = description
    spec["function"]["parameters"] = _lean(spec["function"]["parameters"])
    return spec


def cards_tool(
    offer: str | None,
    actions: set[str],
    steps: list[str] | None = None,
    passages: list[str] | None = None,
) -> dict[str, Any]:
    """write_cards with only what this turn can use, so a grammar engine cannot write anything
    else: the allowed offer's id alone (no offer field when none is), the open steps' ids, the
    retrieved passages' ids (None: any, as when the model may search for more), only the action
    kinds ready to run. Policy checks all of it again once the answer is parsed."""
    spec = copy.deepcopy(CARDS_TOOL)
    properties = spec["function"]["parameters"]["properties"]
    if offer is None:
        del properties["offer"]
    else:
        _object(properties["offer"])["properties"]["offer_id"]["enum"] = [offer]
    if steps is not None:
        if steps:
            _object(properties["next_action"])["properties"]["step_id"]["enum"] = steps
        else:
            del properties["next_action"]
    if passages is not None:
        if passages:
            properties["citations"]["items"]["enum"] = passages
        else:
            del properties["citations"]
    if actions:
        properties["actions"]["items"]["properties"]["kind"]["enum"] = sorted(actions)
    else:
        del properties["actions"]
    return spec


def _object(node: dict[str, Any]) -> dict[str, Any]:
    """The object schema of an optional field (pydantic writes anyOf [object, null])."""
    found: dict[str, Any] = next(o for o in node.get("anyOf", [node]) if o.get("type") == "object")
    return found


CARDS_TOOL = tool_spec(
    WRITE_CARDS, PanelDraft, "Write the side-panel cards. Call exactly once, when you are done."
)
ANSWER_TOOL = tool_spec(ANSWER, AnswerDraft, "Answer the agent's question. Call exactly once.")
