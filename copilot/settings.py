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
    mood_model: Path | None = Field(
        None, description="folder from `copilot mood train`; the shipped model by default"
    )
    asr_model: Path | None = Field(
        None, description="faster-whisper model folder for live voice; the shipped Whisper base"
    )
    playbooks: Path | None = Field(None, description="playbook YAML; Brightwave's by default")
    offers: Path | None = Field(None, description="offer catalogue YAML; Brightwave's by default")
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible base URL (ending in /v1); unset: the offline engine alone",
    )
    llm_api_key: SecretStr | None = Field(None, description="key for llm_base_url, if it needs one")
    llm_model: str | None = Field(None, description="model name the endpoint serves")
    llm_timeout_s: float = Field(30.0, gt=0, le=600, description="per model request")
    llm_max_retries: int = Field(2, ge=0, le=10, description="on timeouts, 429 and 5xx")
    llm_max_output_tokens: int = Field(
        800, ge=64, le=16_384, description="most tokens one answer may run to (the cards need ~500)"
    )
    llm_budget_tokens: int = Field(
        60_000, ge=1_000, description="prompt+completion tokens per conversation, then offline"
    )
    llm_context_tokens: int = Field(
        1_500, ge=200, le=100_000, description="tiktoken budget for the new turns in one prompt"
    )
    llm_price_in: float = Field(0.0, ge=0, description="USD per million prompt tokens")
    llm_price_out: float = Field(0.0, ge=0, description="USD per million completion tokens")
    llm_coalesce_ms: int = Field(
        250, ge=0, le=10_000, description="wait this long for a burst of events to end"
    )
    llm_structured: Literal["auto", "json_schema", "tools"] = Field(
        "auto",
        description="how cards are written: a response_format JSON Schema, a forced tool call, "
        "or auto (the schema, until the endpoint refuses it)",
    )
    api_keys_file: Path | None = Field(
        None, description="YAML of API keys (key: {role, tenant, name}); none: demo keys"
    )
    scenarios: Path = Field(Path("evals/scenarios"), description="scenarios the console plays")
    verification_window_minutes: float = Field(
        15.0, ge=0, le=24 * 60, description="how long an identity check in one channel holds"
    )
    mask_emails: bool = Field(
        False, description="mask emails typed in conversations (a tenant's policy may differ)"
    )
    mask_phones: bool = Field(
        False, description="mask phone numbers typed in conversations (per tenant likewise)"
    )
    tenants_file: Path | None = Field(
        None,
        description="YAML of per-tenant policy: {tenant: {verification_window_minutes, "
        "mask_emails, mask_phones}}",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    sessions_url: str | None = Field(
        None,
        description="the sessions database (log, registry, ledgers): any SQLAlchemy URL, e.g. "
        "postgresql+psycopg://...; none: SQLite beside the data folder",
    )

    redis_url: str | None = Field(
        None,
        description="Redis for live fan-out across workers, e.g. redis://127.0.0.1:6379/0; "
        "none: streams are served by the process that applies the events",
    )

    def sessions_database(self) -> str:
        """Where the session log and its tables live."""
        return self.sessions_url or f"sqlite:///{Path(self.data_dir).parent / 'sessions.db'}"


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
