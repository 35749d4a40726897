"""Per-tenant policy: how long a verification holds (COPILOT_TENANTS_FILE), else the default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from copilot.settings import Settings
from copilot.yamlfile import read_yaml
from tools.errors import ConfigurationError


class TenantPolicy(BaseModel):
    verification_window_minutes: float = Field(15.0, ge=0, le=24 * 60)


@dataclass
class Policies:
    """Per-tenant policy with a default; a session's tenant is looked up by the caller."""

    default: TenantPolicy
    tenants: dict[str, TenantPolicy]

    def window(self, tenant: str | None) -> timedelta:
        policy = self.tenants.get(tenant or "", self.default)
        return timedelta(minutes=policy.verification_window_minutes)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls.load(settings.tenants_file, settings.verification_window_minutes)

    @classmethod
    def load(cls, path: Path | None, default_minutes: float = 15.0) -> Policies:
        default = TenantPolicy(verification_window_minutes=default_minutes)
        if path is None:
            return cls(default, {})
        data = read_yaml(path, "tenant policies")
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path}: expected a mapping of tenant to its policy")
        try:
            tenants = {str(k): TenantPolicy.model_validate(v or {}) for k, v in data.items()}
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigurationError(f"{path}: {where}: {err['msg']}") from None
        return cls(default, tenants)
