"""``provkit watermark``: keys, embedding and detection of the two-layer audio watermark."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.cli.common import echo_json, fail

if TYPE_CHECKING:
    from watermark import WatermarkKey

# The library's layer names and default threshold (``watermark.layers.LAYERS`` and
# ``DEFAULT_THRESHOLD``; a test holds them equal), written out so that ``provkit watermark
# --help`` does not import the DSP stack: each command imports ``watermark`` when it runs.
LAYERS = ("high", "robust")
DEFAULT_THRESHOLD = 1e-6

_HEX16 = re.compile(r"[0-9a-fA-F]{16}")


def _load_key(path: str) -> WatermarkKey:
    from watermark import WatermarkKey

    try:
        return WatermarkKey.load(path)
    except (OSError, ValueError) as exc:
        fail(str(exc))


def _payload(text: str) -> bytes:
    t = text.strip()
    if t.lower().startswith("0x"):
        t = t[2:]
    if not _HEX16.fullmatch(t):
        fail(f"payload must be exactly 16 hex digits (a 64-bit mark id), got {text!r}")
    return bytes.fromhex(t)


def _layers(text: str | None) -> tuple[str, ...] | None:
    from watermark.layers import parse_layers

    if text is None:
        return None
    try:
        return parse_layers(text)
    except ValueError as exc:
        fail(str(exc))


_LAYERS_HELP = (
    f"Comma-separated layers ({','.join(LAYERS)}); default: every layer the sample rate allows "
    "(high: 20.1-20.7 kHz, 44.1 kHz and up; robust: 0.5-5 kHz, survives codecs)."
)


@click.group("watermark")
def watermark() -> None:
    """Keyed audio watermark: high band (20.1-20.7 kHz) and a codec-robust layer (0.5-5 kHz)."""


@watermark.command("keygen")
@click.argument("keyfile", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def keygen(keyfile: str, force: bool, as_json: bool) -> None:
    """Write a new 256-bit watermark key to KEYFILE (permissions 0600)."""
    from watermark import WatermarkKey

    key = WatermarkKey.generate()
    try:
        key.save(keyfile, overwrite=force)
    except OSError as exc:
        fail(str(exc).replace("[Errno 17] ", ""))
    if as_json:
        echo_json({"key_id": key.key_id, "key_file": keyfile})
        return
    click.echo(f"wrote watermark key {key.key_id} to {keyfile}")


@watermark.command("embed")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("output_path", metavar="OUT", type=click.Path(dir_okay=False))
@click.option("--key", "keyfile", required=True, type=click.Path(dir_okay=False), help="Key file.")
@click.option("--payload", required=True, help="64-bit mark id as 16 hex digits.")
@click.option(
    "--strength-db",
    default=-26.0,
    show_default=True,
    type=float,
    help="High-band mark level relative to the music's short-term RMS.",
)
@click.option(
    "--robust-strength-db",
    default=-20.0,
    show_default=True,
    type=float,
    help="Robust-layer depth relative to the local spectrum (-50 to -10).",
)
@click.option("--layers", "layers", default=None, help=_LAYERS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def embed_cmd(
    input_path: str,
    output_path: str,
    keyfile: str,
    payload: str,
    strength_db: float,
    robust_strength_db: float,
    layers: str | None,
    as_json: bool,
) -> None:
    """Mark the audio of IN with PAYLOAD and write OUT (.wav, .flac or .ogg)."""
    from watermark import embed_file

    pay = _payload(payload)
    key = _load_key(keyfile)
    chosen = _layers(layers)
    if not Path(input_path).is_file():
        fail(f"no such file: {input_path}")
    info = embed_file(
        input_path,
        output_path,
        pay,
        key,
        strength_db=strength_db,
        robust_strength_db=robust_strength_db,
        layers=chosen,
    )
    secs = (info.frames or 0) / info.sample_rate
    if as_json:
        echo_json(
            {
                "output": output_path,
                "payload": pay.hex(),
                "duration_s": round(secs, 3),
                "sample_rate": info.sample_rate,
                "channels": info.channels,
            }
        )
        return
    click.echo(
        f"marked {secs:.2f} s ({info.sample_rate} Hz, {info.channels} ch) with payload "
        f"{pay.hex()} -> {output_path}"
    )


@watermark.command("detect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--key", "keyfile", required=True, type=click.Path(dir_okay=False), help="Key file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--threshold",
    default=DEFAULT_THRESHOLD,
    show_default=True,
    type=float,
    help="p-value at or below which the mark counts as found.",
)
@click.option("--layers", "layers", default=None, help=_LAYERS_HELP)
@click.option(
    "--max-speed-dev",
    default=0.05,
    show_default=True,
    type=float,
    help="Robust layer: search playback speeds within ± this fraction (0 = off).",
)
def detect_cmd(
    file: str,
    keyfile: str,
    as_json: bool,
    threshold: float,
    layers: str | None,
    max_speed_dev: float,
) -> None:
    """Look for the mark in FILE; exit 0 whether or not it is found."""
    from watermark import detect_file

    key = _load_key(keyfile)
    chosen = _layers(layers)
    if not Path(file).is_file():
        fail(f"no such file: {file}")
    det = detect_file(file, key, threshold=threshold, layers=chosen, max_speed_dev=max_speed_dev)
    if as_json:
        echo_json(det.to_json())
        return
    if det.found:
        pay = det.payload.hex() if det.payload is not None else "unreadable (mark present)"
        segs = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in det.segments)
        click.echo(f"found: payload {pay}, p-value {det.p_value:.3g}, segments {segs}")
    else:
        click.echo(f"not found (p-value {det.p_value:.3g})")
    for name, r in det.layers.items():
        state = "found" if r.found else "not found"
        pay = r.payload.hex() if r.payload is not None else "-"
        click.echo(
            f"  {name}: {state}, payload {pay}, p-value {r.p_value:.3g}, speed {r.speed:.4f}"
        )
