"""`copilot mood`: train the mood model on a tenant's own `text,label` CSV, and try it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from server.commands import common as opt
from server.commands.common import console, fail, settings
from tools.errors import CopilotError
from tools.kb.embeddings import Embedder

app = typer.Typer(help="Mood: train the model on a text,label CSV of your customers, and try it.")
TRAINED = Path("var/models/mood")


@app.command("train")
def train_cmd(
    file: Annotated[
        Path, typer.Argument(help="CSV with `text` and `label` (negative, neutral, positive)")
    ],
    out: opt.ModelOut = TRAINED,
    source: opt.Source = "supplied by the tenant",
    licence: opt.Licence = "not stated",
) -> None:
    """Train on FILE with the shipped recipe (label-keeping variants, the top encoder layers
    fine-tuned); prints the cross-validated accuracy. Use it with COPILOT_MOOD_MODEL=OUT."""
    from copilot.mood import MoodModelError, load_recipe, train

    s = settings()
    try:
        head = train(
            data_path=file,
            embedder=Embedder(s.embedding_model),
            source=source,
            licence=licence,
            recipe=load_recipe(),
            progress=True,
        )
        head.save(out)
    except (CopilotError, MoodModelError, ValueError) as exc:  # each says what is wrong
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the model to {out}: {exc.strerror or exc}") from None
    data, cv = head.manifest["training_data"], head.manifest["cross_validation"]
    per_class = ", ".join(f"{k} {v}" for k, v in data["per_class"].items())
    console.print(
        f"{data['rows']} rows ({per_class}): cross-validated accuracy {cv['accuracy']:.1%} "
        f"(macro-F1 {cv['macro_f1']:.3f}, {cv['folds']} folds)"
    )
    console.print(f'saved to {out}; try it: copilot mood read "..." --model {out}')


@app.command("read")
def read_cmd(
    text: opt.Said,
    model: opt.ModelFolder = None,
    json: opt.AsJson = False,
) -> None:
    """The mood of TEXT: label, polarity, the cues found and the escalation risk."""
    from copilot.mood import MODEL_DIR, MoodModelError, load_default

    try:
        reading = load_default(Embedder(settings().embedding_model), model or MODEL_DIR).read(text)
    except MoodModelError as exc:
        raise fail(str(exc)) from None
    if json:
        console.print_json(reading.model_dump_json())
        return
    style = {"negative": "red", "neutral": "yellow", "positive": "green"}[reading.label]
    console.print(
        f"[{style}]{reading.label}[/] polarity {reading.polarity:+.2f}, "
        f"escalation risk {reading.escalation_risk:.2f}"
    )
    if reading.cues:
        table = Table("cue", "evidence")
        for cue in reading.cues:
            table.add_row(cue.kind, cue.evidence)
        console.print(table)
