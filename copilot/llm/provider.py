"""Provider configuration: any OpenAI-compatible chat endpoint, through LangChain's ChatOpenAI."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from copilot.llm.endpoint import Mode
from copilot.settings import Settings


@dataclass(frozen=True)
class LlmConfig:
    """Where the model is and what it may spend; built from COPILOT_LLM_* settings."""

    base_url: str
    model: str
    api_key: SecretStr | None = None
    timeout_s: float = 30.0
    max_retries: int = 2
    max_output_tokens: int = 800
    budget_tokens: int = 60_000
    context_tokens: int = 1_500
    price_in: float = 0.0  # USD per million prompt tokens
    price_out: float = 0.0
    coalesce_ms: int = 250
    structured: Mode = "auto"

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig | None:
        """None when no endpoint is configured: the offline engine runs alone."""
        if not settings.llm_base_url:
            return None
        return cls(
            base_url=settings.llm_base_url.rstrip("/"),
            model=settings.llm_model or "default",
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            max_output_tokens=settings.llm_max_output_tokens,
            budget_tokens=settings.llm_budget_tokens,
            context_tokens=settings.llm_context_tokens,
            price_in=settings.llm_price_in,
            price_out=settings.llm_price_out,
            coalesce_ms=settings.llm_coalesce_ms,
            structured=settings.llm_structured,
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1e6


def chat_model(config: LlmConfig) -> BaseChatModel:
    """A streaming chat model on the endpoint; the openai client retries 429, 5xx and timeouts."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=config.base_url,
        api_key=config.api_key or SecretStr("not-needed"),
        model=config.model,
        timeout=config.timeout_s,
        max_retries=config.max_retries,
        # A small model can run on for thousands of tokens (a minute each hundred on CPU); an
        # answer cut short is malformed, fed back once, then the offline cards stand.
        max_tokens=config.max_output_tokens,
        use_responses_api=False,
        stream_usage=True,
        temperature=0.2,
    )


@dataclass(frozen=True)
class Probe:
    """What `copilot doctor` found at the endpoint."""

    ok: bool
    detail: str
    latency_ms: float
    models: tuple[str, ...] = ()


def headers(config: LlmConfig) -> dict[str, str]:
    return (
        {"Authorization": f"Bearer {config.api_key.get_secret_value()}"} if config.api_key else {}
    )


def probe(config: LlmConfig, timeout_s: float = 10.0) -> Probe:
    """Ask the endpoint for its models, then for a one-token completion."""
    started = time.perf_counter()
    models: tuple[str, ...] = ()
    try:
        with httpx.Client(
            base_url=config.base_url, headers=headers(config), timeout=timeout_s
        ) as http:
            listed = http.get("/models")
            if listed.status_code == 200:
                models = tuple(str(m.get("id")) for m in listed.json().get("data", []))
            reply = http.post(
                "/chat/completions",
                json={
                    "model": config.model,
                    "messages": [{"role": "user", "content": "Reply with the word ok."}],
                    "max_tokens": 1,
                },
            )
    except httpx.HTTPError as exc:
        ms = (time.perf_counter() - started) * 1000
        return Probe(False, f"{config.base_url} does not answer: {type(exc).__name__}: {exc}", ms)
    except ValueError as exc:
        ms = (time.perf_counter() - started) * 1000
        return Probe(False, f"{config.base_url} answered something that is not JSON: {exc}", ms)
    ms = (time.perf_counter() - started) * 1000
    if reply.status_code != 200:
        body = reply.text[:200].replace("\n", " ")
        return Probe(False, f"chat completion failed: HTTP {reply.status_code} {body}", ms, models)
    if models and config.model not in models:
        return Probe(
            True,
            f"answers, but {config.model!r} is not among its models; it served anyway",
            ms,
            models,
        )
    return Probe(True, f"answers as {config.model!r}", ms, models)
