"""Per-tenant policy (COPILOT_TENANTS_FILE), else the settings' default: how long a verification
holds, and whether emails and phone numbers typed in a conversation are masked like card numbers
are (in the stored log, the transcript, every card and the handoff packet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.pii import RedactionPolicy
from copilot.settings import Settings
from copilot.yamlfile import read_yaml
from tools.errors import ConfigurationError, first_problem


class TenantPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verification_window_minutes: float = Field(15.0, ge=0, le=24 * 60)
    mask_emails: bool = False
    mask_phones: bool = False


@dataclass
class Policies:
    """Per-tenant policy with a default; a session's tenant is looked up by the caller."""

    default: TenantPolicy
    tenants: dict[str, TenantPolicy]

    def of(self, tenant: str | None) -> TenantPolicy:
        return self.tenants.get(tenant or "", self.default)

    def window(self, tenant: str | None) -> timedelta:
        return timedelta(minutes=self.of(tenant).verification_window_minutes)

    def redaction(self, tenant: str | None) -> RedactionPolicy:
        policy = self.of(tenant)
        return RedactionPolicy(mask_emails=policy.mask_emails, mask_phones=policy.mask_phones)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        default = TenantPolicy(
            verification_window_minutes=settings.verification_window_minutes,
            mask_emails=settings.mask_emails,
            mask_phones=settings.mask_phones,
        )
        return cls.load(settings.tenants_file, default)

    @classmethod
    def load(cls, path: Path | None, default: TenantPolicy | None = None) -> Policies:
        """A tenant's entry changes only what it names; the rest is the default's."""
        default = default or TenantPolicy()
        if path is None:
            return cls(default, {})
        data = read_yaml(path, "tenant policies")
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path}: expected a mapping of tenant to its policy")
        try:
            tenants = {
                str(k): TenantPolicy.model_validate({**default.model_dump(), **(v or {})})
                for k, v in data.items()
            }
        except ValidationError as exc:
            raise ConfigurationError(f"{path}: {first_problem(exc)}") from None
        return cls(default, tenants)
