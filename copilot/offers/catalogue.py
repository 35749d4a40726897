"""The offer catalogue: entries with rules as data, loaded from YAML and validated whole."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.yamlfile import read_yaml
from tools.errors import InvalidInput
from tools.view import RECENT_DAYS

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "catalogues" / "offers.yaml"
MAX_FILE_BYTES = 256 * 1024

OfferKind = Literal["upsell", "cross_sell"]
Tier = Literal["standard", "silver", "gold", "platinum"]
Segment = Literal["consumer", "family", "small_business"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Spec):
    """What the customer pays for the offer: each month, or once."""

    amount: float = Field(ge=0, le=100_000)
    per: Literal["month", "once"]


class DataOverage(_Spec):
    """Some line used more than its allowance in min..max of its last `of_last` months."""

    min_months: int = Field(ge=1, le=4)
    of_last: int = Field(ge=1, le=4, description="the view carries the last 4 months")
    max_months: int | None = Field(None, ge=1, le=4)

    @model_validator(mode="after")
    def _window(self) -> DataOverage:
        if self.min_months > self.of_last:
            raise ValueError("min_months cannot exceed of_last")
        if self.max_months is not None and self.max_months < self.min_months:
            raise ValueError("max_months cannot be below min_months")
        return self


class DeviceAge(_Spec):
    """The customer's phone is at least `min_months` full months old."""

    min_months: int = Field(ge=1, le=240)


class RecentPurchase(_Spec):
    """The customer bought (and kept) an item of `category` within the last `within_days`."""

    category: str = Field(min_length=1)
    within_days: int = Field(ge=1, le=RECENT_DAYS, description="the view keeps 90 days")


class Rules(_Spec):
    """Named conditions; in `rules` all must hold, in `exclude_if` any one excludes."""

    data_overage: DataOverage | None = None
    device_age: DeviceAge | None = None
    plan_in: list[str] | None = Field(None, min_length=1, description="the line's plan code")
    plan_not_in: list[str] | None = Field(None, min_length=1)
    addon_in: list[str] | None = Field(None, min_length=1, description="the line's add-on codes")
    no_past_due: Literal[True] | None = None
    tier_in: list[Tier] | None = Field(None, min_length=1)
    segment_in: list[Segment] | None = Field(None, min_length=1)
    recent_purchase_category: RecentPurchase | None = None

    def kinds(self) -> list[str]:
        """The rule kinds set here, in declaration order."""
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


class Offer(_Spec):
    """One catalogue entry."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    title: str = Field(min_length=1, max_length=120)
    kind: OfferKind
    score: float = Field(ge=0.0, le=1.0, description="priority among eligible offers")
    plan_code: str | None = Field(None, description="the plan or add-on offered")
    sku: str | None = Field(None, description="the product offered")
    price: Price | None = Field(None, description="shown beside the title on the offer card")
    rules: Rules
    exclude_if: Rules = Field(default_factory=Rules)
    why: str = Field(
        min_length=1,
        max_length=300,
        description="one line; {facts} or {<rule kind>} placeholders take the cited data",
    )

    @field_validator("rules")
    @classmethod
    def _some_rule(cls, rules: Rules) -> Rules:
        if not rules.kinds():
            raise ValueError("an offer needs at least one rule")
        return rules

    @model_validator(mode="after")
    def _template(self) -> Offer:
        if "\n" in self.why:
            raise ValueError("why: must be one line")
        allowed = {"facts", *self.rules.kinds()}
        try:
            parts = list(string.Formatter().parse(self.why))
        except ValueError as exc:
            raise ValueError(f"why: bad template ({exc})") from None
        for _, name, spec, conversion in parts:
            if name is not None and (name not in allowed or spec or conversion):
                raise ValueError(f"why: placeholder {{{name}}} must be one of {sorted(allowed)}")
        return self


class Catalogue(_Spec):
    """The offers a company may make, validated as a whole (ids are unique)."""

    offers: list[Offer]

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read a catalogue file; every problem names the file, the offer and the field."""
        raw = read_yaml(path, "catalogue", MAX_FILE_BYTES)
        if not isinstance(raw, dict) or not isinstance(raw.get("offers"), list):
            raise InvalidInput("catalogue", f"{path}: needs a top-level 'offers' list")
        if extra := sorted(set(raw) - {"offers"}):
            raise InvalidInput("catalogue", f"{path}: unknown top-level keys {extra}")
        offers, problems, seen = [], [], set()
        for n, entry in enumerate(raw["offers"]):
            oid = entry.get("id") if isinstance(entry, dict) else None
            name = f"offer '{oid}'" if isinstance(oid, str) else f"offer #{n + 1}"
            try:
                offer = Offer.model_validate(entry)
            except ValidationError as exc:
                problems += [f"{name}: {_describe(e)}" for e in exc.errors()]
                continue
            if offer.id in seen:
                problems.append(f"{name}: id: duplicate offer id")
            seen.add(offer.id)
            offers.append(offer)
        if problems:
            raise InvalidInput("catalogue", f"{path}: {'; '.join(problems)}")
        return cls(offers=offers)

    def get(self, offer_id: str) -> Offer | None:
        """The offer with this id, if the catalogue has it."""
        return next((o for o in self.offers if o.id == offer_id), None)


def load_default() -> Catalogue:
    """Brightwave Mobile's catalogue, shipped with the package."""
    return Catalogue.load(DEFAULT_PATH)


def _describe(error: Any) -> str:
    path = error["loc"]
    loc = ".".join(str(p) for p in path)
    if error["type"] == "extra_forbidden":
        if len(path) == 2 and path[0] in ("rules", "exclude_if"):
            known = ", ".join(Rules.model_fields)
            return f"{loc}: unknown rule kind '{path[1]}' (known: {known})"
        return f"{loc}: unknown field"
    message = error["msg"].removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message
