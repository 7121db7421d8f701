"""``provkit generate``, ``provkit verify`` and ``provkit demo``: the pipeline from the shell."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from service.cli.common import echo_json, fail, load_settings, negative, services

#: The screening tiers (``screening.policy.TIERS``; a test holds the two equal), written out so
#: that ``--help`` does not load the screener: each command imports the pipeline when it runs.
TIERS = ("free", "pro", "enterprise")


@click.command("generate")
@click.argument("prompt")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to copy the generated file (.mp4 for video, .flac/.wav for audio).")  # fmt: skip
@click.option("--kind", type=click.Choice(["video", "audio"]), default=None,
              help="Default: from the output suffix.")  # fmt: skip
@click.option("--tier", type=click.Choice(TIERS), default="free")
@click.option("--user", "user_id", default="cli", show_default=True, help="User id on the record.")
@click.option("--duration", type=float, default=10.0, show_default=True, help="Seconds.")
@click.option("--width", type=int, default=640, show_default=True)
@click.option("--height", type=int, default=360, show_default=True)
@click.option("--seed", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
def generate_cmd(
    prompt: str,
    output: Path,
    kind: str | None,
    tier: str,
    user_id: str,
    duration: float,
    width: int,
    height: int,
    seed: int | None,
    as_json: bool,
) -> None:
    """Screen PROMPT, generate, watermark, fingerprint and register; copy the media to OUTPUT.

    Exit 1 when screening refuses the prompt (with --json, the decision is printed first)."""
    from pydantic import ValidationError

    from service.pipeline import ScreenedOut, generate
    from service.requests import GenerateRequest, first_error

    suffix = output.suffix.lower()
    kind = kind or ("video" if suffix == ".mp4" else "audio")
    if kind == "video" and suffix != ".mp4":
        fail("video output must end in .mp4")
    if kind == "audio" and suffix not in (".flac", ".wav"):
        fail("audio output must end in .flac or .wav")
    try:  # the API's request model, with the same bounds
        inp = GenerateRequest(
            prompt=prompt, user_id=user_id, kind=kind, tier=tier, duration_s=duration,
            width=width, height=height, seed=seed,
            audio_format=suffix.lstrip(".") if kind == "audio" else "flac",
        )  # fmt: skip
    except ValidationError as exc:
        fail(first_error(exc))
    svc = services()
    try:
        result = generate(svc, inp)
    except ScreenedOut as exc:
        d = exc.decision
        codes = ",".join(r["code"] for r in d["reasons"]) or d["action"]
        hint = f"; try: {d['suggestion']}" if d.get("suggestion") else ""
        if as_json:
            echo_json({"refused": True, "decision": d})
        negative(f"prompt refused ({d['action']}: {codes}){hint}")
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.files[0], output)
    receipt = result.receipt()
    if as_json:
        echo_json(receipt)
    else:
        click.echo(f"{output}  mark_id={receipt['mark_id']}  generation={receipt['generation_id']}")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the whole verdict as JSON.")
@click.option(
    "--mode",
    type=click.Choice(["auto", "full", "fast"]),
    default="auto",
    show_default=True,
    help="auto: every signal, a watermark-named video confirmed on its key frames; "
    "full: every signal at full depth; fast: stop at the first conclusive signal.",
)
@click.option("--fast", is_flag=True, help="Same as --mode fast.")
def verify_cmd(file: Path, as_json: bool, mode: str, fast: bool) -> None:
    """Verify FILE: watermark, fingerprint and hash evidence, and one verdict."""
    from service.pipeline import VerifyOptions, verify

    chosen: Any = "fast" if fast else mode
    result = verify(services(), file, admin=True, options=VerifyOptions(mode=chosen))
    if as_json:
        echo_json(result)
        return
    click.echo(_verdict_line(file.name, result))


def _verdict_line(name: str, r: dict[str, object]) -> str:
    sig = r["signals"]
    assert isinstance(sig, dict)
    wm, fp = sig["watermark"], sig["fingerprint"]
    w = f"mark {wm['payload']}" if wm["found"] else ("no mark" if wm["checked"] else "—")
    m = fp["matches"][0] if fp["matches"] else None
    f = f"{m['video_id']} @ {m['offset_s']:+.1f}s" if m else ("no match" if fp["checked"] else "—")
    return f"{name:<28} {r['verdict']:<13} {w:<24} {f}"


DEMO_CASES: list[tuple[str, dict[str, object]]] = [
    ("original", {}),
    ("re-encoded CRF 35", {"crf": 35}),
    ("trimmed 4 s from 3 s", {"start_s": 3.0, "duration_s": 4.0}),
    ("letterboxed", {"letterbox": 0.12}),
    ("downscaled 50 %", {"scale": 0.5}),
    ("audio stripped", {"keep_audio": False}),
    ("audio only (AAC 256k)", {"keep_video": False}),
    (
        "audio only (MP3 128k)",
        {"keep_video": False, "audio_codec": "libmp3lame", "audio_bitrate": 128_000},
    ),
]


@click.command("demo")
@click.option("--clips", type=click.IntRange(1, 5), default=2, show_default=True)
@click.option("--duration", type=click.FloatRange(4, 60), default=10.0, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the generated and transformed files here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per verification.")
def demo_cmd(clips: int, duration: float, keep: Path | None, as_json: bool) -> None:
    """Generate clips, transform them as platforms do, verify each, and print a table.

    Uses a throw-away store unless PROVKIT_DATA_DIR / PROVKIT_DATABASE_URL point elsewhere.
    """
    import os

    from service.context import Services
    from service.media.transforms import transform
    from service.pipeline import generate, verify
    from service.requests import GenerateRequest
    from service.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="provkit-demo-"))
    try:
        if "PROVKIT_DATA_DIR" in os.environ or "PROVKIT_DATABASE_URL" in os.environ:
            settings = load_settings()
        else:
            settings = Settings(data_dir=work / "var")
        from service.schema import upgrade

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.db_url)
        svc = Services(settings)
        out_dir = keep or work / "files"
        out_dir.mkdir(parents=True, exist_ok=True)
        prompts = [
            "a slow pan across a neon city at night with rain",
            "ocean waves at sunset with gulls and a soft melody",
            "a forest path in autumn with wind in the leaves",
            "a busy market street with chatter and bicycles",
            "snow falling over a quiet mountain village",
        ]
        if not as_json:
            click.echo(f"{'file':<28} {'verdict':<13} {'watermark':<24} fingerprint")
        for i in range(clips):
            req = GenerateRequest(prompt=prompts[i], user_id="demo", duration_s=duration, seed=i)
            res = generate(svc, req)
            src = out_dir / f"clip{i}.mp4"
            shutil.copyfile(res.files[0], src)
            for label, kw in DEMO_CASES:
                tag = "".join(ch for ch in label if ch.isalnum())
                dst = src if not kw else out_dir / f"clip{i}-{tag}.mp4"
                if kw:
                    transform(src, dst, **kw)  # type: ignore[arg-type]
                r = verify(svc, dst)
                name = f"clip{i} {label}"
                if as_json:
                    echo_json({"clip": i, "transform": label, **r})
                else:
                    click.echo(_verdict_line(name, r))
        unknown = out_dir / "unregistered.mp4"
        from service.generator import GenerationRequest, ReferenceGenerator
        from service.media.encode import write_mp4

        media = ReferenceGenerator().generate(
            GenerationRequest("never registered", duration_s=min(duration, 6.0), seed=999)
        )
        assert media.video is not None
        write_mp4(unknown, media.video, media.audio[0])
        r = verify(svc, unknown)
        if as_json:
            echo_json({"clip": None, "transform": "unregistered", **r})
        else:
            click.echo(_verdict_line("unregistered clip", r))
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["demo_cmd", "generate_cmd", "verify_cmd"]
