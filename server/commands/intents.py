"""`copilot intents`: train the intent classifier from a `text,intent` CSV, and try it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from server.commands import common as opt
from server.commands.common import console, fail, settings
from tools.errors import CopilotError
from tools.kb.embeddings import Embedder

app = typer.Typer(help="Intents: train a classifier from a text,intent CSV, and try it.")
TRAINED = Path("var/models/intent")


@app.command("train")
def train_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with `text` and `intent` columns, UTF-8")],
    out: opt.ModelOut = TRAINED,
    source: opt.Source = "supplied by the tenant",
    licence: opt.Licence = "not stated",
) -> None:
    """Train on FILE, choosing every setting by cross-validation; prints CV accuracy."""
    from copilot.intent import read_training_csv, train

    s = settings()
    try:
        rows = read_training_csv(file)
        columns = (
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("loading model", total=None)

            def advance(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            given = {"file": file.name, "source": source, "licence": licence}
            model = train(rows, Embedder(s.embedding_model), given, advance)
        model.save(out)
    except CopilotError as exc:
        raise fail(exc.message) from None
    except OSError as exc:
        raise fail(f"cannot write the model to {out}: {exc.strerror or exc}") from None
    cv = model.manifest["cross_validation"]
    console.print(
        f"{len(rows)} rows, {len(model.labels)} intents: cross-validated accuracy "
        f"{cv['accuracy']:.1%} (macro-F1 {cv['macro_f1']:.3f}, {cv['folds']} folds); "
        f"unknown below confidence {model.threshold:.2f}"
    )
    console.print(f'saved to {out}; try it: copilot intents predict "..." --model {out}')


@app.command("predict")
def predict_cmd(
    text: opt.Said,
    model: opt.ModelFolder = None,
    json: opt.AsJson = False,
) -> None:
    """The intent of TEXT with its three likeliest intents; "unknown" when unsure."""
    from copilot.intent import MODEL_DIR, IntentModel

    try:
        classifier = IntentModel.load(model or MODEL_DIR, Embedder(settings().embedding_model))
        prediction = classifier.predict([text])[0]
    except CopilotError as exc:
        raise fail(exc.message) from None
    if json:
        console.print_json(prediction.model_dump_json())
        return
    style = "yellow" if prediction.intent == "unknown" else "green"
    console.print(
        f"[{style}]{prediction.intent}[/] confidence {prediction.confidence:.2f} "
        f"(unknown below {classifier.threshold:.2f})"
    )
    table = Table("#", "intent", "probability")
    for i, (name, p) in enumerate(prediction.alternatives, 1):
        table.add_row(str(i), name, f"{p:.3f}")
    console.print(table)
