"""Mood across turns: informational turns leave it alone, worsening is exposed, recovery reads."""

from __future__ import annotations

import pytest

from copilot.mood import MoodModel, MoodState, MoodTracker, load_default
from copilot.mood_cues import detect_cues, is_informational, shows_negativity
from tools.kb.embeddings import Embedder

INFORMATIONAL = [
    "it's jane.doe@example.com",
    "my email is margaret.chen@example.net",
    "(415) 555-0101",
    "it's 415 555 0101",
    "the number is four one five five five five zero one zero one",
    "account number BA90000001",
    "order S900000201",
    "My confirmation code is KX7T2P.",
    "402931",
    "the code is 402931",
    "the last four digits are 7319",
    "my date of birth is March 3rd, 1980",
    "It's [email]",
    "[phone ending 0101]",
    "ok",
    "OK",
    "Okay.",
    "yes",
    "Yes!",
    "yep, that's right",
    "sure",
    "Sure, go ahead",
    "that's correct",
    "no",
    "one moment please",
]

NOT_INFORMATIONAL = [
    "thanks",
    "ok thanks",
    "great",
    "happy",
    "yes please, that would be amazing",
    "no that's not what I said",
    "ok fine",
    "Fine, go on.",
    "sure, whatever",
    "it's broken again",
    "402931 and it still doesn't work",
    "my email is jane@example.com and nobody has answered it for a week",
    "I HAVE TO REPEAT MYSELF AGAIN",
    "why",
    "hi",
    "",
]


@pytest.fixture(scope="module")
def model(embedder: Embedder) -> MoodModel:
    return load_default(embedder)


@pytest.mark.parametrize("text", INFORMATIONAL)
def test_details_and_acknowledgements_are_informational(text: str) -> None:
    assert is_informational(text)


@pytest.mark.parametrize("text", NOT_INFORMATIONAL)
def test_words_with_mood_are_not_informational(text: str) -> None:
    assert not is_informational(text)


def _same_mood(before: MoodState, after: MoodState) -> None:
    assert after.current == before.current
    assert after.trend == before.trend
    assert (after.direction, after.reason, after.moved_by) == (
        before.direction,
        before.reason,
        before.moved_by,
    )
    assert (after.alert, after.alert_reason, after.risk) == (
        before.alert,
        before.alert_reason,
        before.risk,
    )
    assert not after.alert_raised


DETAILS = ["it's jane.doe@example.com", "ok", "yes", "sure", "402931", "(415) 555-0101"]


def test_informational_turns_keep_an_angry_mood_and_its_alert(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    tracker.update("e0", "My internet has been down for a week, this is ridiculous.")
    angry = tracker.update(
        "e1", "I want a supervisor right now or I'm switching to Zephyr Mobile, unacceptable!"
    )
    assert angry.current.label == "negative" and angry.alert
    for i, text in enumerate(DETAILS):
        _same_mood(angry, tracker.update(f"d{i}", text))
    assert tracker.held == [f"d{i}" for i in range(len(DETAILS))]
    assert len(tracker.turns) == 2  # the details are not turns of the trend


def test_informational_turns_keep_a_cheerful_mood(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    cheerful = tracker.update("e0", "Hi! I love the new plan, thanks so much.")
    assert cheerful.current.label == "positive"
    for i, text in enumerate(["it's [email]", "ok", "yes", "account number BA90000001"]):
        _same_mood(cheerful, tracker.update(f"d{i}", text))


def test_informational_turns_do_not_let_the_alert_decay(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    hot = tracker.update("e0", "This is a disgrace, get me a manager, I'm cancelling my account!")
    assert hot.alert
    for i in range(6):  # six calm-looking "ok"s would otherwise have decayed the risk away
        assert tracker.update(f"ok{i}", "ok").alert


def test_informational_first_turn_has_no_mood_and_does_not_dampen_the_next(
    model: MoodModel,
) -> None:
    tracker = MoodTracker(model)
    first = tracker.update("e0", "my account number is 55120044")
    assert (first.current.label, first.trend, first.direction, first.alert) == (
        "neutral",
        [],
        "steady",
        False,
    )
    text = "You billed me twice and nobody will fix it, this is unacceptable."
    angry = tracker.update("e1", text)
    fresh = MoodTracker(model).update("x", text)
    assert angry.trend == fresh.trend and angry.current.label == "negative"


def test_worsening_is_exposed_for_an_offer_gate(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    calm = tracker.update("e0", "Hi, I have a question about my bill.")
    assert calm.direction == "steady"
    worse = tracker.update("e1", "You charged me twice AGAIN and nobody has fixed it. Ridiculous.")
    assert worse.direction == "worsening" and worse.current.label == "negative"
    assert worse.reason.startswith("dropped after:")


@pytest.mark.parametrize(
    "recovery",
    [
        ["Oh great, thanks so much, that's fixed it!", "I'm really happy now, thank you."],
        ["Thank you, that's great.", "Happy with that, thanks!"],
        ["Perfect, thanks!", "Great, have a lovely day."],
    ],
)
def test_angry_customer_who_recovers_reads_positive_within_two_turns(
    model: MoodModel, recovery: list[str]
) -> None:
    tracker = MoodTracker(model)
    tracker.update("e0", "This is ridiculous, I keep getting charged extra for data every month!")
    angry = tracker.update("e1", "I'm furious, I've explained this three times already.")
    assert angry.current.label == "negative"
    states = [tracker.update(f"r{i}", text) for i, text in enumerate(recovery)]
    assert states[0].current.label == "positive" and states[0].direction == "improving"
    last = states[-1]
    assert last.current.label == "positive" and last.direction != "worsening"
    assert not last.alert and last.trend[-1] > last.trend[1]


def test_plain_question_after_thanks_is_not_worsening(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    tracker.update("e0", "Thank you so much, that's brilliant!")
    after = tracker.update("e1", "What time does the store on Elm Road open on Saturday?")
    assert after.direction != "worsening"


def test_frustration_in_words_is_not_neutral(model: MoodModel) -> None:
    text = "I've been on hold for an hour"
    assert shows_negativity(detect_cues(text))
    reading = model.read(text)
    assert reading.label == "negative" and reading.polarity < 0
    assert not shows_negativity(detect_cues("thank you so much!!"))  # "!!" alone is no anger
