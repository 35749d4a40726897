"""LLM-judged metrics, when a judge model is configured: any OpenAI-compatible endpoint.

Faithfulness and AnswerRelevancy (ragas) on the prose summary, and rubric scores (ragas
DomainSpecificRubrics) for the next-best-action and the offer. The judge's own failures are
reported in the metric's note; they never fail a scenario.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from evals.quiet_ragas import prepare
from evals.report import Metric
from tools.kb.embeddings import Embedder

NBA_RUBRIC = {
    "score1_description": "The suggestion ignores the conversation or would harm the customer.",
    "score2_description": "Related to the topic but the wrong step for where the talk stands.",
    "score3_description": "A reasonable step, but not the most useful one now.",
    "score4_description": "The right next step, with a reason that is mostly grounded.",
    "score5_description": "The right next step, with a reason grounded in the customer's data.",
}
OFFER_RUBRIC = {
    "score1_description": "An offer to an upset customer or one the data does not support.",
    "score2_description": "An offer that is badly timed or weakly supported.",
    "score3_description": "Acceptable: supported by the data, timing neutral.",
    "score4_description": "Well timed and supported by the customer's own numbers.",
    "score5_description": "Well timed, clearly useful to the customer, and the reason cites "
    "the data; or correctly no offer when none fits.",
}


@dataclass
class JudgeConfig:
    url: str
    model: str
    api_key: str = "none"
    timeout_s: float = 60.0


def _embeddings(embedder: Embedder) -> Any:
    from ragas.embeddings import BaseRagasEmbedding

    class Local(BaseRagasEmbedding):
        """The project's offline MiniLM, for AnswerRelevancy's question similarity."""

        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            return embedder.embed([text])[0]

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            return embedder.embed([text])[0]

        def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return embedder.embed(texts)

        async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return embedder.embed(texts)

    return Local()


@dataclass
class Judge:
    """Scores prose and suggestions with the configured judge model."""

    config: JudgeConfig
    embedder: Embedder
    scores: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        prepare()
        from openai import AsyncOpenAI
        from ragas.llms import llm_factory
        from ragas.metrics.collections import AnswerRelevancy, DomainSpecificRubrics, Faithfulness

        client = AsyncOpenAI(
            base_url=self.config.url,
            api_key=self.config.api_key,
            timeout=self.config.timeout_s,
            max_retries=1,
        )
        llm = llm_factory(self.config.model, client=client)
        self._faithfulness = Faithfulness(llm=llm)
        self._relevancy = AnswerRelevancy(llm=llm, embeddings=_embeddings(self.embedder))
        self._nba = DomainSpecificRubrics(llm=llm, rubrics=NBA_RUBRIC)
        self._offer = DomainSpecificRubrics(llm=llm, rubrics=OFFER_RUBRIC)

    async def _score(self, key: str, work: Any) -> None:
        try:
            result = await work
            self.scores.setdefault(key, []).append(float(result.value))
        except Exception as exc:
            self.errors.setdefault(key, []).append(f"{type(exc).__name__}: {exc}"[:200])

    async def conversation(
        self, turns: list[str], question: str, summary: str, nba: str | None, offer: str
    ) -> None:
        """Judge one replayed conversation's prose summary, next-best-action and offer."""
        if summary:
            await self._score(
                "faithfulness",
                self._faithfulness.ascore(
                    user_input=question, response=summary, retrieved_contexts=turns
                ),
            )
            await self._score(
                "answer_relevancy", self._relevancy.ascore(user_input=question, response=summary)
            )
        talk = "\n".join(turns)
        if nba:
            await self._score("nba_rubric", self._nba.ascore(user_input=talk, response=nba))
        await self._score("offer_rubric", self._offer.ascore(user_input=talk, response=offer))

    def metrics(self) -> list[Metric]:
        labels = {
            "faithfulness": "Faithfulness of the prose summary (judge)",
            "answer_relevancy": "AnswerRelevancy of the prose summary (judge)",
            "nba_rubric": "next-best-action rubric, 1-5 (judge)",
            "offer_rubric": "offer rubric, 1-5 (judge)",
        }
        out = []
        for key, label in labels.items():
            values, errors = self.scores.get(key, []), self.errors.get(key, [])
            note = f"{len(values)} judged"
            if errors:
                note += f"; {len(errors)} judge errors, first: {errors[0]}"
            out.append(
                Metric(
                    key=f"judge_{key}",
                    label=label,
                    value=round(statistics.fmean(values), 4) if values else None,
                    source=f"ragas, judge {self.config.model}",
                    note=note,
                )
            )
        return out
