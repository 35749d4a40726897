"""One settings class, read from COPILOT_* environment variables and validated at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.errors import ConfigurationError


class Settings(BaseSettings):
    """Everything deployable about the copilot. Each field is COPILOT_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="ignore")

    data_dir: Path = Field(Path("var/data"), description="folder of the demo SQLite databases")
    backend: Literal["sql", "rest"] = Field("sql", description="how to reach the siloed systems")
    crm_db_url: str | None = Field(None, description="SQLAlchemy URL; overrides data_dir/crm.db")
    billing_db_url: str | None = None
    orders_db_url: str | None = None
    crm_api_url: str | None = Field(None, description="base URL of the CRM service (backend=rest)")
    billing_api_url: str | None = None
    orders_api_url: str | None = None
    systems_token: SecretStr | None = Field(None, description="bearer token for the REST systems")
    tool_timeout_s: float = Field(2.0, gt=0, le=60)
    kb_dir: Path = Field(Path("var/kb"), description="folder of the embedded Chroma database")
    chroma_url: str | None = Field(None, description="a `chroma run` server instead of kb_dir")
    kb_name: str = Field("brightwave", pattern=r"^[a-z0-9_-]{1,40}$")
    embedding_model: Path | None = Field(None, description="sentence-transformers model folder")
    intent_model: Path | None = Field(
        None, description="folder from `copilot intents train`; the shipped model by default"
    )
    playbooks: Path | None = Field(None, description="playbook YAML; Brightwave's by default")
    offers: Path | None = Field(None, description="offer catalogue YAML; Brightwave's by default")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value raises ConfigurationError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"COPILOT_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
