"""End-to-end: ``provkit screen`` through the real CLI group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli.main import cli

DEV = Path(__file__).resolve().parents[1] / "data" / "screening_dev.jsonl"


def run(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def _main(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    # ProvkitGroup.main turns errors into exit codes; invoke through it like the console script
    runner = CliRunner()
    r = runner.invoke(cli, list(args), input=input, standalone_mode=True)
    return r.exit_code, r.stdout, r.stderr


def test_screen_prompt_text_and_json() -> None:
    code, out, _ = run("screen", "make a song in Jay Chou's voice")
    assert code == 0 and out.startswith("deny") and "VOICE_IMPERSONATION" in out
    code, out, _ = run("screen", "模仿猫叫", "--json")
    d = json.loads(out)
    assert code == 0 and d["action"] == "allow" and d["approved"] is True
    code, out, _ = run("screen", "--tier", "pro", "a ballad in the style of Adele", "--json")
    assert json.loads(out)["action"] == "allow"
    code, out, _ = run("screen", "--tier", "free", "a ballad in the style of Adele", "--json")
    assert json.loads(out)["action"] == "review"


def test_prompt_from_stdin_and_after_double_dash() -> None:
    code, out, _ = run("screen", "-", input="用周杰伦的声音唱歌".encode())
    assert code == 0 and out.startswith("deny")
    code, out, _ = run("screen", "--json", "--", "eval")
    assert code == 0 and json.loads(out)["action"] == "allow"


@pytest.mark.parametrize(
    ("args", "stdin", "msg"),
    [
        (["screen", ""], None, "empty prompt"),
        (["screen", "hi", "--tier", "gold"], None, "unknown tier"),
        (["screen"], None, "missing PROMPT"),
        (["screen", "-"], b"\xff\xfe\xfa", "UTF-8"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], stdin: bytes | None, msg: str) -> None:
    code, _out, err = _main(*args, input=stdin)
    assert code == 2
    assert msg in err and err.count("\n") == 1


def test_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"id": "a", "prompt": "clone Adele's voice"},
                {"id": "b", "prompt": "a calm narrator", "tier": "pro"},
                {"id": "c", "prompt": "   "},
                {"id": "d", "prompt": "用我自己的声音读", "user_id": "u-1001"},
            ]
        ),
        encoding="utf-8",
    )
    code, out, _ = run("screen", "--jsonl", str(src))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0] == {
        "id": "a",
        "action": "deny",
        "approved": False,
        "reasons": ["VOICE_IMPERSONATION"],
        "matched": ["Adele"],
    }
    assert rows[1]["action"] == "allow" and rows[2]["error"] == "empty prompt"
    assert rows[3]["action"] == "allow"


def test_jsonl_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": 1, "prompt": "ok"}\n\xff\n')
    code, _, err = _main("screen", "--jsonl", str(bad))
    assert code == 2 and "UTF-8" in err
    notjson = tmp_path / "nj.jsonl"
    notjson.write_text('{"id": 1, "prompt": "ok"}\n{oops\n', encoding="utf-8")
    code, _, err = _main("screen", "--jsonl", str(notjson))
    assert code == 2 and ":2:" in err


def test_eval_command(tmp_path: Path) -> None:
    code, out, _ = run("screen", "eval", str(DEV), "--rules-only")
    assert code == 0 and "confusion" in out and "deny recall" in out
    code, out, _ = run("screen", "eval", str(DEV), "--json", "--rules-only")
    d = json.loads(out)
    assert d["n"] >= 400 and d["bars"]["deny_recall"] >= 0.97
    bad = tmp_path / "l.jsonl"
    bad.write_text('{"prompt": "x", "label": "maybe"}\n', encoding="utf-8")
    code, _, err = _main("screen", "eval", str(bad))
    assert code == 2 and "label" in err
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\x00\xff\xfe")
    code, _, err = _main("screen", "eval", str(binary))
    assert code == 2 and "UTF-8" in err


def test_eval_corpus_splits() -> None:
    code, out, _ = run("screen", "eval", "--rules-only", "--json")
    d = json.loads(out)
    assert code == 0 and set(d) == {"train", "dev", "test"}
    assert all(d[s]["n"] > 500 for s in d) and "by_lang" in d["test"]
    code, out, _ = run("screen", "eval", "--rules-only")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["split", "n"] and "== test" in out


def test_operator_files_on_the_command_line(tmp_path: Path) -> None:
    extra = tmp_path / "people.csv"
    extra.write_text(
        "id,name_en,name_zh,kind,gender,nogo\nx0001,Wren Halloway,霍洛维·雷恩,anchor,f,1\n",
        encoding="utf-8",
    )
    code, out, _ = run("screen", "--registry", str(extra), "--json", "sound like Wren Halloway")
    d = json.loads(out)
    assert code == 0 and d["action"] == "deny" and d["reasons"][0]["code"] == "NOGO_IDENTITY"
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: x\nrules: []\n", encoding="utf-8")
    code, _, err = _main("screen", "--policy", str(bad), "hello")
    assert code == 2 and "rules" in err
