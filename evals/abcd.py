"""ABCD (Chen et al., NAACL 2021, MIT) as playbooks, and its sample conversations with gold actions.

Read from ../shared/datasets/abcd at run time, never copied into the repository: kb.json gives each
of the 55 subflows its required action sequence, guidelines.json the agent's manual (human names,
button labels, texts), ontology.json the flows, the subflows per flow and the actions by kind.
guidelines.json names subflows only in words ("Initiate Refund"); ontology.json lists each flow's
subflows in the same order. That positional mapping is checked against the names, never trusted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from copilot.playbooks import Condition, Playbook, PlaybookSet, Step
from tools.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "abcd"  # ../shared
SOURCE = "ABCD kb.json + guidelines.json, MIT, Chen et al. NAACL 2021"
SAMPLES = ("abcd_sample.json", "dialogstudio_abcd_original_examples.json")
SAY_MAX = 400
# guidelines.json buttons whose slug is not the action's name (the item FAQs add "search-").
BUTTON_ALIASES = {
    "membership-privileges": "membership",
    "notify-internal-team": "notify-team",
    "enter-detail": "enter-details",
    "select-answer": "select-faq",
}


@dataclass(frozen=True)
class GuideAction:
    button: str
    text: str


@dataclass(frozen=True)
class Subflow:
    """One subflow, its kb.json sequence and its guidelines.json entry, mapped and checked."""

    key: str
    flow: str
    name: str
    flow_description: str
    instructions: tuple[str, ...]
    actions: tuple[str, ...]
    guide: tuple[GuideAction, ...]

    @property
    def description(self) -> str:
        """What a zero-shot classifier compares the customer's words with."""
        return f"{self.flow_description}. {self.name}. {' '.join(self.instructions)}"


@dataclass(frozen=True)
class Turn:
    speaker: Literal["agent", "customer", "action"]
    text: str
    action: str | None = None
    slots: tuple[str, ...] = ()


@dataclass(frozen=True)
class AbcdConversation:
    convo_id: int
    subflow: str
    turns: tuple[Turn, ...]


def _read(root: Path, name: str) -> Any:
    path = root / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: put the ABCD files ({name}, ...) under {root}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("abcd", f"{path}: not valid JSON ({exc})") from None


def _slug(text: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _pair(flow: str, keys: list[str], names: list[str]) -> None:
    """Pair keys with names by how many key words each name holds; it must agree with order."""
    scores = sorted(
        (
            (len(_tokens(k) & _tokens(n)) / len(_tokens(k)), -abs(i - j), i, j)
            for i, k in enumerate(keys)
            for j, n in enumerate(names)
        ),
        reverse=True,
    )
    paired: dict[int, int] = {}
    for score, _, i, j in scores:
        if score > 0 and i not in paired and j not in paired.values():
            paired[i] = j
    for i, key in enumerate(keys):
        if i not in paired:
            raise InvalidInput(
                "abcd", f"subflow '{key}' (flow '{flow}') has no entry in guidelines.json"
            )
        if paired[i] != i:
            raise InvalidInput(
                "abcd",
                f"subflow '{key}' (flow '{flow}'): guidelines.json lists "
                f"'{names[paired[i]]}' at position {paired[i] + 1}, ontology.json at {i + 1}",
            )
    for j, name in enumerate(names):
        if j not in paired.values():
            raise InvalidInput(
                "abcd", f"guidelines.json subflow '{name}' (flow '{flow}') is not in ontology.json"
            )


def subflows(root: Path = ROOT) -> list[Subflow]:
    """Every subflow with its sequence and guidelines, in ontology order; fails on any mismatch."""
    kb, guidelines, ontology = (
        _read(root, n) for n in ("kb.json", "guidelines.json", "ontology.json")
    )
    try:
        flows: dict[str, list[str]] = ontology["intents"]["subflows"]
        known = {a for kind in ontology["actions"].values() for a in kind}
        guides = {_slug(name, "_"): entry for name, entry in guidelines.items()}
        if missing := sorted(set(flows) ^ set(guides)):
            raise InvalidInput("abcd", f"flows {missing} are not in both ontology and guidelines")
        keys = [k for f in flows.values() for k in f]
        if extra := sorted(set(kb) - set(keys)):
            raise InvalidInput("abcd", f"subflow '{extra[0]}' in kb.json is not in ontology.json")
        out = []
        for flow, flow_keys in flows.items():
            entries = guides[flow]["subflows"]
            _pair(flow, flow_keys, list(entries))
            for key, (name, entry) in zip(flow_keys, entries.items(), strict=True):
                if key not in kb:
                    raise InvalidInput("abcd", f"subflow '{key}' has no sequence in kb.json")
                if unknown := [a for a in kb[key] if a not in known]:
                    raise InvalidInput(
                        "abcd", f"subflow '{key}': action '{unknown[0]}' is not in ontology.json"
                    )
                guide = tuple(
                    GuideAction(a["button"], f"{a['text']} {'; '.join(a.get('subtext', []))}")
                    for a in entry["actions"]
                )
                out.append(
                    Subflow(
                        key,
                        flow,
                        name,
                        guides[flow]["description"],
                        tuple(entry["instructions"]),
                        tuple(kb[key]),
                        guide,
                    )
                )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput("abcd", f"{root}: unexpected shape ({exc!r})") from None
    return out


def _button_action(button: str) -> str:
    slug = _slug(button)
    return BUTTON_ALIASES.get(slug, slug)


def _readable(action: str) -> str:
    return action.replace("-", " ").capitalize()


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SAY_MAX else text[: SAY_MAX - 1].rstrip() + "…"


def playbook(sub: Subflow) -> Playbook:
    """The kb.json sequence as ordered steps, titled and worded from guidelines.json."""
    steps: list[Step] = []
    seen: Counter[str] = Counter()
    for action in sub.actions:
        seen[action] += 1
        matches = [
            g
            for g in sub.guide
            if _button_action(g.button) == action or f"search-{_slug(g.button)}" == action
        ]
        guide = matches[min(seen[action], len(matches)) - 1] if matches else None
        title = _readable(action)
        if guide is not None:
            title = (
                guide.button if _button_action(guide.button) == action else f"Search {guide.button}"
            )
        steps.append(
            Step(
                id=action if seen[action] == 1 else f"{action}-{seen[action]}",
                title=title,
                say=_trim(guide.text) if guide else "",
                uses=action,
                requires=[steps[-1].id] if steps else [],
                done_when=[Condition(action=action)],
            )
        )
    return Playbook(intent=sub.key, title=sub.name, steps=steps)


def load_playbooks(root: Path = ROOT) -> PlaybookSet:
    """One playbook per ABCD subflow, named "abcd"."""
    return PlaybookSet(name="abcd", source=SOURCE, playbooks=[playbook(s) for s in subflows(root)])


def _conversation(raw: Any, where: str, keys: set[str]) -> AbcdConversation:
    cid, original, delexed = raw["convo_id"], raw["original"], raw["delexed"]
    if [s for s, _ in original] != [t["speaker"] for t in delexed]:
        raise InvalidInput("abcd", f"{where}: conversation {cid}: original and delexed differ")
    gold = sorted({t["targets"][0] for t in delexed})
    scenario = raw["scenario"]["subflow"]
    if len(gold) != 1 or (sub := gold[0]) not in keys:
        raise InvalidInput("abcd", f"{where}: conversation {cid}: gold subflows {gold} not in kb")
    if scenario != sub and not re.fullmatch(rf"{re.escape(sub)}_\d+", scenario):
        raise InvalidInput("abcd", f"{where}: conversation {cid}: {scenario!r} is not {sub!r}")
    turns = []
    for (speaker, text), target in zip(original, delexed, strict=True):
        if speaker == "action":
            if target["targets"][1] != "take_action":
                raise InvalidInput("abcd", f"{where}: conversation {cid}: action without target")
            turns.append(Turn("action", text, target["targets"][2], tuple(target["targets"][3])))
        elif speaker in ("agent", "customer"):
            turns.append(Turn(speaker, text))
        else:
            raise InvalidInput("abcd", f"{where}: conversation {cid}: speaker {speaker!r}")
    return AbcdConversation(cid, sub, tuple(turns))


def conversations(root: Path = ROOT) -> list[AbcdConversation]:
    """The sample conversations of both files, once each, in file order."""
    keys = {s.key for s in subflows(root)}
    out: dict[int, AbcdConversation] = {}
    for name in SAMPLES:
        try:
            for raw in _read(root, name):
                convo = _conversation(raw, name, keys)
                if out.setdefault(convo.convo_id, convo) != convo:
                    raise InvalidInput(
                        "abcd", f"{name}: conversation {convo.convo_id} differs between the files"
                    )
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise InvalidInput("abcd", f"{root / name}: unexpected shape ({exc!r})") from None
    return list(out.values())
