"""The action-log model: valid logs pass, every kind of bad log fails with a clear message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cert_testdata import at, full_actions, h

from provenance.certificate import ActionKind, EvidenceError, parse_actions
from provenance.certificate.evidence import MAX_ACTIONS


def test_full_log_parses_in_every_form() -> None:
    acts = full_actions()
    for form in (acts, {"actions": acts}, json.dumps(acts), json.dumps(acts).encode()):
        log = parse_actions(form)
        assert [a.kind for a in log.actions][:2] == [ActionKind.PROMPT_EDIT, ActionKind.LAYER_SPEC]
    assert parse_actions(acts).actions[0].prompt_chars == len("a slow ballad " * 10)
    assert parse_actions(acts).digest() == parse_actions(json.dumps(acts)).digest()


def _one(**kw: Any) -> list[dict[str, Any]]:
    return [{"id": "x", "at": at(0), **kw}]


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (_one(kind="dance"), "kind"),
        (_one(kind="prompt_edit"), "prompt_edit needs"),
        (_one(kind="layer_spec", details={"layers": []}), "layer_spec"),
        (_one(kind="parameter_change", details={"name": "cfg"}), "parameter_change"),
        (_one(kind="selection", details={"chosen": []}), "selection"),
        (_one(kind="arrangement", details={"operations": 0}), "operations"),
        (
            _one(kind="post_edit", before_sha256=h("a"), after_sha256=h("a")),
            "nothing changed",
        ),
        (_one(kind="post_edit", before_sha256=h("a")), "before_sha256 and after_sha256"),
        (_one(kind="semantic_fix", details={"description": " "}), "description"),
        (_one(kind="human_asset", details={"asset_type": "lyrics"}), "refs"),
        (_one(kind="human_asset", refs=[h("a")], details={"asset_type": "poem"}), "asset_type"),
        (_one(kind="human_asset", refs=["XYZ"], details={"asset_type": "lyrics"}), "refs"),
        (_one(kind="prompt_edit", details={"text": "x"}, extra=1), "extra"),
        (
            [
                {
                    "id": "x",
                    "kind": "prompt_edit",
                    "at": "2026-01-01T00:00:00",
                    "details": {"length": 3},
                }
            ],
            "timezone",
        ),
        ("{not json", "not valid JSON"),
        ("42", "must be a list"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_logs_are_rejected_with_one_line(log: Any, message: str) -> None:
    with pytest.raises(EvidenceError) as ei:
        parse_actions(log if isinstance(log, str) else json.dumps(log))
    assert message.lower() in str(ei.value).lower()
    assert "\n" not in str(ei.value)


def test_out_of_order_and_duplicates() -> None:
    acts = full_actions()
    acts[2]["at"] = at(-5)
    with pytest.raises(EvidenceError, match="out of order"):
        parse_actions(acts)
    acts = full_actions()
    acts[1]["id"] = acts[0]["id"]
    with pytest.raises(EvidenceError, match="duplicate"):
        parse_actions(acts)


def test_future_timestamps() -> None:
    now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    with pytest.raises(EvidenceError, match="future"):
        parse_actions(full_actions(), now=now)
    parse_actions(full_actions(), now=now + timedelta(minutes=2))  # within the 5-min skew
    far = [
        {"id": "x", "kind": "prompt_edit", "at": "2999-01-01T00:00:00Z", "details": {"length": 1}}
    ]
    with pytest.raises(EvidenceError, match="future"):
        parse_actions(far)


def test_oversized_logs() -> None:
    one = {"id": "x", "kind": "parameter_change", "at": at(0), "details": {"name": "a", "value": 1}}
    many = [dict(one, id=f"x{i}") for i in range(MAX_ACTIONS + 1)]
    with pytest.raises(EvidenceError, match="more than"):
        parse_actions(many)
    with pytest.raises(EvidenceError, match="larger than"):
        parse_actions(b" " * (3 * 1024 * 1024))
    full = [dict(one, id=f"x{i}", details={"name": "a", "value": [i]}) for i in range(MAX_ACTIONS)]
    assert len(parse_actions(json.dumps(full)).actions) == MAX_ACTIONS  # the depth scan passes
    big = [dict(one, details={"name": "a", "value": "v" * 20_000})]
    with pytest.raises(EvidenceError, match="16 KiB"):
        parse_actions(big)
