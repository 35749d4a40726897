"""Scenario files for the console's "play a scenario": their turns as events to send."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from copilot.scenario import load
from server.auth import Reader
from server.deps import DepsDep
from tools.errors import CopilotError, NotFound

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])


class ScenarioInfo(BaseModel):
    name: str
    description: str


class PlayTurn(BaseModel):
    type: str
    speaker: str
    channel: str
    text: str
    data: dict[str, Any]
    delay_s: float


class Playable(BaseModel):
    name: str
    description: str
    channel: str
    unavailable: list[str] = Field(
        description="systems down while it plays: its metadata turn asks for them, for its "
        "session alone"
    )
    turns: list[PlayTurn]


def _folder(deps: DepsDep) -> FilePath:
    return FilePath(deps.settings.scenarios)


@router.get("")
async def list_scenarios(deps: DepsDep, who: Reader) -> list[ScenarioInfo]:
    out = []
    for path in sorted(_folder(deps).glob("*.yaml")):
        try:
            found = load(path)
        except CopilotError:
            continue  # a broken file is the eval suite's to report, not the console's
        out.append(ScenarioInfo(name=found.name, description=found.description))
    return out


@router.get("/{name}")
async def get_scenario(
    name: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    deps: DepsDep,
    who: Reader,
) -> Playable:
    """The turns to post, metadata first; delay_s is the pause before each.

    A scenario's `unavailable` systems ride on the metadata turn as a drill, so the session
    it is played in finds them down (copilot.systems.with_outage) as the offline replay does,
    and every other session on the server still reaches them.
    """
    path = _folder(deps) / f"{name}.yaml"
    if not path.is_file():
        raise NotFound(f"no scenario {name}")
    found = load(path)
    down = list(found.unavailable)
    opening = {**found.metadata, **({"drill": {"unavailable": down}} if down else {})}
    turns = []
    if opening:
        turns.append(
            PlayTurn(
                type="metadata",
                speaker="system",
                channel=found.channel,
                text="",
                data=opening,
                delay_s=0.0,
            )
        )
    turns += [
        PlayTurn(
            type=t.type,
            speaker=t.speaker,
            channel=t.channel or found.channel,
            text=t.text,
            data=t.data,
            delay_s=min(t.delay_s, 4.0),
        )
        # An approval is the agent's own click, and a secure-form card goes to billing, not
        # the chat: the console leaves both to the agent.
        for t in found.turns
        if not t.approve and t.secure_form is None
    ]
    return Playable(
        name=found.name,
        description=found.description,
        channel=found.channel,
        unavailable=down,
        turns=turns,
    )
