"""``provkit screen``: screen prompts for voice impersonation.

* ``provkit screen "PROMPT" [--tier free] [--user ID] [--json]`` — one decision (exit 0 for any
  decision, 2 for bad input); ``-`` reads the prompt from standard input.
* ``provkit screen --jsonl IN.jsonl`` — one output line per input line ``{"id", "prompt",
  "tier"?, "user_id"?}``: ``{"id", "action", "approved", "reasons": [codes], "matched": [names]}``.
* ``provkit screen eval [LABELLED.jsonl]`` — precision/recall per label, per language, category
  and obfuscation type, and the confusion matrix; without a file, the same for the labelled
  corpus's train, dev and test splits (``--rules-only`` leaves the semantic stage out).

``screen`` is a group whose first argument is either a subcommand (``eval``) or the prompt.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.cli.common import echo_json, fail

_VALUE_OPTS = {"--tier", "--user", "--jsonl", "--registry", "--consent", "--policy", "--max-chars"}


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"{source}: not valid UTF-8 (byte {exc.start})")


class ScreenGroup(click.Group):
    """A group that treats an unknown first argument as the prompt to screen."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Pull the prompt out of ``args`` when the first positional is not a subcommand."""
        rest = list(args)
        i = 0
        while i < len(rest):
            a = rest[i]
            if a == "--":
                if i + 1 < len(rest):
                    ctx.meta["screen_prompt"] = rest[i + 1]
                    del rest[i : i + 2]
                break
            if a.startswith("-") and a != "-":
                if a in _VALUE_OPTS:
                    i += 2
                    continue
                i += 1
                continue
            if a not in self.commands:
                ctx.meta["screen_prompt"] = a
                del rest[i]
            break
        return super().parse_args(ctx, rest)


def _screener(
    registry: tuple[str, ...], consent: str | None, policy: str | None, max_chars: int
) -> Any:
    from screening import Screener, ScreeningError

    try:
        if not registry and not consent and not policy and max_chars == 10_000:
            return Screener.default()
        return Screener.from_paths(list(registry), consent, policy, max_chars=max_chars)
    except (ScreeningError, OSError) as exc:
        fail(str(exc))


@click.group("screen", cls=ScreenGroup, invoke_without_command=True)
@click.option("--tier", default="free", show_default=True, help="free, pro or enterprise.")
@click.option("--user", "user_id", default=None, help="Account id (for consented voices).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
@click.option(
    "--jsonl",
    "jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Screen every line of a JSONL file ('-' for stdin).",
)
@click.option(
    "--registry",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Extra identity registry CSV (repeatable; extends the shipped one).",
)
@click.option(
    "--consent", type=click.Path(exists=True, dir_okay=False), help="Consent registry YAML."
)
@click.option("--policy", type=click.Path(exists=True, dir_okay=False), help="Policy rules YAML.")
@click.option("--max-chars", default=10_000, show_default=True, type=click.IntRange(1))
@click.pass_context
def screen(
    ctx: click.Context,
    tier: str,
    user_id: str | None,
    as_json: bool,
    jsonl: Path | None,
    registry: tuple[str, ...],
    consent: str | None,
    policy: str | None,
    max_chars: int,
) -> None:
    """Screen PROMPT for voice impersonation (or: screen eval FILE)."""
    ctx.obj = {"registry": registry, "consent": consent, "policy": policy, "max_chars": max_chars}
    if ctx.invoked_subcommand is not None:
        return
    prompt = ctx.meta.get("screen_prompt")
    if jsonl is not None:
        if prompt is not None:
            fail("give either a PROMPT or --jsonl, not both")
        _run_jsonl(jsonl, tier, user_id, _screener(registry, consent, policy, max_chars))
        return
    if prompt is None:
        fail("missing PROMPT (or --jsonl FILE, or: screen eval FILE)")
    if prompt == "-":
        prompt = _decode(sys.stdin.buffer.read(), "stdin")
    from screening import BadPrompt

    s = _screener(registry, consent, policy, max_chars)
    try:
        d = s.screen(prompt, tier=tier, user_id=user_id)
    except BadPrompt as exc:
        fail(str(exc))
    if as_json:
        echo_json(d.to_dict())
        return
    click.echo(f"{d.action}  (policy {d.policy_version}, language {d.language})")
    for r in d.reasons:
        where = ""
        if r.span is not None:
            where = f'  [{r.span[0]}:{r.span[1]} "{prompt[r.span[0] : r.span[1]]}"]'
        click.echo(f"  {r.code} ({r.rule}): {r.message}{where}")
    if d.matched:
        who = ", ".join(f"{m.name} ({m.id or '-'}, {m.kind})" for m in d.matched)
        click.echo(f"  matched: {who}")
    if d.obfuscations:
        click.echo(f"  obfuscation seen: {', '.join(d.obfuscations)}")
    if d.suggestion:
        click.echo(f"  suggestion: {d.suggestion}")


def _run_jsonl(path: Path, tier: str, user_id: str | None, s: Any) -> None:
    from screening import BadPrompt
    from screening.evaluate import iter_jsonl_prompts

    source = "stdin" if str(path) == "-" else str(path)
    data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    text = _decode(data, source)
    try:
        for n, obj in iter_jsonl_prompts(text, source):
            rid = obj.get("id", n)
            try:
                d = s.screen(
                    obj["prompt"],
                    tier=str(obj.get("tier") or tier),
                    user_id=obj.get("user_id", user_id),
                )
            except BadPrompt as exc:
                echo_json({"id": rid, "action": None, "approved": False, "error": str(exc)})
                continue
            echo_json(
                {
                    "id": rid,
                    "action": d.action,
                    "approved": d.approved,
                    "reasons": [r.code for r in d.reasons],
                    "matched": [m.name for m in d.matched],
                }
            )
    except BadPrompt as exc:
        fail(str(exc))


@screen.command("eval")
@click.argument(
    "labelled", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--mistakes", is_flag=True, help="Also list the prompts decided differently.")
@click.option(
    "--rules-only", is_flag=True, help="Leave the semantic stage out (it is used when installed)."
)
@click.pass_context
def screen_eval(
    ctx: click.Context, labelled: Path | None, as_json: bool, mistakes: bool, rules_only: bool
) -> None:
    """Evaluate the screener on a labelled JSONL file, or (no file) on the corpus's
    train / dev / test splits."""
    from screening import BadPrompt, Screener
    from screening.evaluate import evaluate, evaluate_corpus, format_splits, read_labelled

    o = ctx.obj or {}
    if rules_only and not (o.get("registry") or o.get("consent") or o.get("policy")):
        s = Screener.default(semantic=False)
    else:
        s = _screener(
            o.get("registry", ()), o.get("consent"), o.get("policy"), o.get("max_chars", 10_000)
        )
    if labelled is None:
        reports = evaluate_corpus(s)
        if as_json:
            echo_json({k: r.to_dict() for k, r in reports.items()})
            return
        click.echo(format_splits(reports))
        return
    try:
        examples = read_labelled(labelled)
    except BadPrompt as exc:
        fail(str(exc))
    if not examples:
        fail(f"{labelled}: no labelled examples")
    report = evaluate(s, examples)
    if as_json:
        d = report.to_dict()
        if mistakes:
            d["mistakes"] = report.mistakes
        echo_json(d)
        return
    click.echo(report.format())
    if mistakes and report.mistakes:
        click.echo("")
        click.echo("mistakes:")
        for m in report.mistakes:
            click.echo(f"  {m['id']}: {m['label']} -> {m['got']} {m['reasons']} | {m['prompt']}")
