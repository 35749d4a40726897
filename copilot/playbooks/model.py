"""Playbooks as data: per intent, the steps an agent follows, when each applies and is done."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.yamlfile import read_yaml
from tools.errors import InvalidInput

DEFAULT_PATH = Path(__file__).resolve().parent / "brightwave.yaml"
SLUG = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
# Preconditions a step may name besides earlier steps.
GATES = {
    "identity_verified": "the customer's identity is verified",
    "account_pulled": "the customer's account is pulled up",
}
# Facts read from the unified view, with the system each comes from; a step can apply only
# when one holds. While that system is down the fact is unknown and the step stays in.
FACT_SYSTEMS = {
    "past_due": "billing",
    "autopay_failed": "billing",
    "card_expired": "billing",
    "late_fee": "billing",
    "data_overage": "billing",
    "recent_purchase": "orders",
    "open_order": "orders",
    "no_receipt": "orders",
}
FACTS = tuple(FACT_SYSTEMS)


class Condition(BaseModel):
    """Holds when every field that is set holds; an empty condition never holds."""

    model_config = ConfigDict(extra="forbid")

    identity: Literal["matched", "ambiguous", "not_found"] | None = None
    verified: bool | None = Field(None, description="identity verified (channel or resolution)")
    account_pulled: bool | None = Field(None, description="the unified view is loaded")
    action: str | None = Field(None, description="an action_result with data.action == this")
    agent_said: list[str] | None = Field(None, description="regexes; any agent or bot turn")
    customer_said: list[str] | None = Field(None, description="regexes; any customer turn")
    fact: str | None = Field(None, description=f"one of {', '.join(FACTS)}")
    step: str | None = Field(None, description="another step of the playbook is done")

    @model_validator(mode="after")
    def _known(self) -> Condition:
        if self.fact is not None and self.fact not in FACTS:
            raise ValueError(f"unknown fact {self.fact!r} (known: {', '.join(FACTS)})")
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one field")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=120, description="what the agent does, briefly")
    say: str = Field("", max_length=400, description="guidance shown under the title")
    uses: str | None = Field(None, description="the tool or action this step runs")
    requires: list[str] = Field(default_factory=list, description="gates or earlier step ids")
    when: Condition | None = Field(None, description="the step applies only while this holds")
    done_when: list[Condition] = Field(min_length=1, description="any of these marks it done")
    closing: bool = Field(False, description="wrap-up: the issue is resolved before this step")


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intent: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=120)
    clears: list[str] = Field(
        default_factory=list,
        description="facts that opened the playbook and must be gone on a fresh read to resolve",
    )
    steps: list[Step] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Playbook:
        seen: set[str] = set()
        ids = {s.id for s in self.steps}
        for fact in self.clears:
            if fact not in FACTS:
                raise ValueError(f"clears names unknown fact {fact!r} (known: {', '.join(FACTS)})")
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step {step.id!r} appears twice")
            for need in step.requires:
                if need not in GATES and need not in seen:
                    raise ValueError(
                        f"step {step.id!r} requires {need!r}: neither a gate "
                        f"({', '.join(GATES)}) nor an earlier step"
                    )
            for cond in [*step.done_when, *([step.when] if step.when else [])]:
                if cond.step is not None and cond.step not in ids:
                    raise ValueError(f"step {step.id!r} refers to unknown step {cond.step!r}")
            seen.add(step.id)
        return self


class PlaybookSet(BaseModel):
    """One tenant's playbooks, at most one per intent."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG)
    source: str = Field("", description="where the procedures come from")
    playbooks: list[Playbook] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_per_intent(self) -> PlaybookSet:
        intents = [p.intent for p in self.playbooks]
        if dupes := sorted({i for i in intents if intents.count(i) > 1}):
            raise ValueError(f"more than one playbook for {dupes}")
        return self

    def for_intent(self, intent: str | None) -> Playbook | None:
        return next((p for p in self.playbooks if p.intent == intent), None)

    @classmethod
    def load(cls, path: Path) -> PlaybookSet:
        """Read a playbook file; every problem names the file, the playbook and the field."""
        raw = read_yaml(path, "playbooks")
        if isinstance(raw, dict):  # x- keys hold YAML anchors shared by the playbooks
            raw = {k: v for k, v in raw.items() if not str(k).startswith("x-")}
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = list(err["loc"])
                where = ".".join(str(p) for p in loc)
                if len(loc) > 1 and loc[0] == "playbooks" and isinstance(loc[1], int):
                    entries = raw.get("playbooks") if isinstance(raw, dict) else None
                    entry = entries[loc[1]] if isinstance(entries, list) else None
                    intent = entry.get("intent") if isinstance(entry, dict) else None
                    if intent:
                        where = f"playbook '{intent}': " + ".".join(str(p) for p in loc[2:])
                problems.append(f"{where}: {err['msg']}")
            raise InvalidInput("playbooks", f"{path}: {'; '.join(problems)}") from None


def load_default() -> PlaybookSet:
    return PlaybookSet.load(DEFAULT_PATH)
