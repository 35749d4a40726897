"""Fit the confidence model: P(the top hit answers the question) from retrieval features."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import yaml
from pydantic import BaseModel

from tools.kb.retriever import CALIBRATION_FILE, Calibration, Retriever, features

CASES_FILE = Path(__file__).with_name("calibration_cases.yaml")
# A wrong answer shown with confidence costs more than silence, so the floor leans to precision.
FLOOR = 0.6


class Case(BaseModel):
    q: str
    article: str | None


class Fit(BaseModel):
    calibration: dict[str, float | str]
    cases: int
    positives: int
    accuracy_at_floor: float
    answered_wrong: int
    silent_when_answerable: int


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    return [Case(**row) for row in yaml.safe_load(path.read_text())]


def fit(retriever: Retriever, cases: list[Case], floor: float = FLOOR) -> tuple[Calibration, Fit]:
    """Logistic regression on (similarity, agreement, coverage) of each case's top hit."""
    from sklearn.linear_model import LogisticRegression

    rows: list[list[float]] = []
    labels: list[int] = []
    for case in cases:
        result = retriever.search(case.q, k=1)
        top = result.candidates[0] if result.candidates else None
        if top is None:
            rows.append([0.0, 0.0, 0.0])
            labels.append(0)
            continue
        rows.append(list(features(result.query, top)))
        labels.append(int(case.article is not None and top.citation.article_id == case.article))
    model = LogisticRegression(C=10.0).fit(rows, labels)
    (w_sim, w_agree, w_cover), bias = model.coef_[0], model.intercept_[0]
    calibration = Calibration(similarity=float(w_sim), agreement=float(w_agree),
                              coverage=float(w_cover), bias=float(bias), floor=floor,
                              fitted_on=f"{len(cases)} cases in {CASES_FILE.name}")  # fmt: skip
    probs = [calibration.probability(*row) for row in rows]
    answered = [p >= floor for p in probs]
    wrong = sum(1 for a, y in zip(answered, labels, strict=True) if a and not y)
    silent = sum(1 for a, y in zip(answered, labels, strict=True) if not a and y)
    report = Fit(
        calibration=dict(asdict(calibration)),
        cases=len(cases),
        positives=sum(labels),
        accuracy_at_floor=round(1 - (wrong + silent) / len(cases), 3),
        answered_wrong=wrong,
        silent_when_answerable=silent,
    )
    return calibration, report


def save(calibration: Calibration, path: Path = CALIBRATION_FILE) -> None:
    path.write_text(json.dumps(asdict(calibration), indent=2) + "\n")
