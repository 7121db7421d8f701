"""File-level embedding/detection (soundfile and PyAV paths) and the ``provkit watermark`` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from service.cli.main import cli
from watermark import WatermarkError, WatermarkKey, detect, detect_file, embed, embed_file

PAYLOAD = bytes.fromhex("0123456789abcdef")
Music = Callable[..., np.ndarray]


def _write_aac(path: Path, x: np.ndarray, sr: int, bitrate: int = 256_000) -> None:
    with av.open(str(path), "w") as out:
        st = out.add_stream("aac", rate=sr)
        st.bit_rate = bitrate
        st.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(x.T.astype(np.float32)), format="fltp", layout="stereo"
        )
        frame.sample_rate = sr
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


@pytest.mark.parametrize(
    ("suffix", "subtype"), [(".wav", "PCM_16"), (".wav", "FLOAT"), (".flac", "PCM_24")]
)
def test_embed_file_matches_in_memory(
    tmp_path: Path, key: WatermarkKey, suffix: str, subtype: str, make_music: Music
) -> None:
    x = (
        make_music(48000, 23.0, seed=11) * 0.5
    )  # longer than one 10 s block and one 20 s demod block
    src = tmp_path / f"in{suffix}"
    sf.write(src, x, 48000, subtype=subtype)
    dst = tmp_path / f"out{suffix}"
    info = embed_file(src, dst, PAYLOAD, key)
    assert info.frames == x.shape[0] and sf.info(str(dst)).subtype == subtype
    dtype = {"PCM_16": "int16", "PCM_24": "int32", "FLOAT": "float32"}[subtype]
    host, _ = sf.read(src, dtype=dtype, always_2d=True)
    got, _ = sf.read(dst, dtype=dtype, always_2d=True)
    ref = embed(host, 48000, PAYLOAD, key)
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64)).max()
    tolerance = {"PCM_16": 0, "PCM_24": 256, "FLOAT": 1e-7}[subtype]  # 24-bit grid vs int32 grid
    assert diff <= tolerance
    assert np.abs(got.astype(np.float64) - host).max() > 0
    det = detect_file(dst, key)
    assert det.found and det.payload == PAYLOAD and det.segments == [(0.0, 23.0)]
    mem = detect(got, 48000, key)
    assert mem.payload == PAYLOAD
    assert not detect_file(src, key).found


def test_pyav_paths_aac_256k(tmp_path: Path, key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 6.0, seed=12)
    marked = embed(x, 48000, PAYLOAD, key)
    m4a = tmp_path / "marked.m4a"
    _write_aac(m4a, marked, 48000)
    det = detect_file(m4a, key)
    assert det.found and det.payload == PAYLOAD
    # re-marking from a PyAV-decoded source writes float WAV
    out = tmp_path / "again.wav"
    embed_file(m4a, out, bytes(8), WatermarkKey(bytes(32)))
    assert detect_file(out, WatermarkKey(bytes(32))).payload == bytes(8)
    low = tmp_path / "low.m4a"
    _write_aac(low, marked, 48000, bitrate=96_000)  # low-rate AAC removes the band
    assert not detect_file(low, key).found


def test_ogg_output_keeps_mark(tmp_path: Path, key: WatermarkKey, make_music: Music) -> None:
    src = tmp_path / "in.wav"
    sf.write(src, make_music(48000, 5.0, seed=13), 48000, subtype="PCM_16")
    dst = tmp_path / "out.ogg"
    embed_file(src, dst, PAYLOAD, key)
    assert detect_file(dst, key).payload == PAYLOAD


def test_file_errors(tmp_path: Path, key: WatermarkKey) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(200))
    with pytest.raises(WatermarkError, match="readable"):
        detect_file(bad, key)
    with pytest.raises(FileNotFoundError):
        detect_file(tmp_path / "missing.wav", key)
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros((48000, 2)), 48000)
    with pytest.raises(WatermarkError, match="too short"):
        embed_file(src, tmp_path / "o.wav", PAYLOAD, key)
    with pytest.raises(WatermarkError, match="output must be"):
        embed_file(src, tmp_path / "o.mp3", PAYLOAD, key)
    lo = tmp_path / "lo.wav"
    sf.write(lo, np.zeros((96000, 1)), 32000)
    with pytest.raises(WatermarkError, match="below 44100"):
        detect_file(lo, key, layers=("high",))
    low = detect_file(lo, key)  # default: the layers that apply at 32 kHz (robust only)
    assert set(low.layers) == {"robust"} and not low.found
    with pytest.raises(WatermarkError, match="subset"):
        detect_file(lo, key, layers=("middle",))


def test_cli_end_to_end(tmp_path: Path, make_music: Music) -> None:
    runner = CliRunner()
    keyfile = tmp_path / "wm.key"
    r = runner.invoke(cli, ["watermark", "keygen", str(keyfile)])
    assert r.exit_code == 0, r.output
    assert keyfile.stat().st_size == 32 and (keyfile.stat().st_mode & 0o777) == 0o600
    assert WatermarkKey.load(keyfile).secret.hex() not in r.output
    src, dst = tmp_path / "in.flac", tmp_path / "out.flac"
    sf.write(src, make_music(48000, 5.0, seed=14), 48000, subtype="PCM_16")
    r = runner.invoke(
        cli,
        [
            "watermark",
            "embed",
            str(src),
            str(dst),
            "--key",
            str(keyfile),
            "--payload",
            "00ff00ff12345678",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["watermark", "detect", str(dst), "--key", str(keyfile), "--json"])
    assert r.exit_code == 0
    obj = json.loads(r.output)
    assert obj["found"] is True and obj["payload"] == "00ff00ff12345678"
    assert obj["p_value"] < 1e-6 and obj["segments"] == [[0.0, 5.0]]
    r = runner.invoke(cli, ["watermark", "detect", str(src), "--key", str(keyfile), "--json"])
    assert r.exit_code == 0
    unmarked = json.loads(r.output)
    assert {k: unmarked[k] for k in ("found", "payload", "segments")} == {
        "found": False,
        "payload": None,
        "segments": [],
    }
    assert set(unmarked["layers"]) == {"high", "robust"}
    r = runner.invoke(cli, ["watermark", "detect", str(dst), "--key", str(keyfile)])
    assert r.exit_code == 0 and "00ff00ff12345678" in r.output
    assert "robust: found" in r.output and "high: found" in r.output
    only = tmp_path / "robust.flac"
    args = ["--key", str(keyfile), "--layers", "robust"]
    r = runner.invoke(
        cli, ["watermark", "embed", str(src), str(only), "--payload", "00ff00ff12345678", *args]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["watermark", "detect", str(only), "--json", *args])
    obj = json.loads(r.output)
    assert obj["found"] and set(obj["layers"]) == {"robust"}
    assert obj["layers"]["robust"]["payload"] == "00ff00ff12345678"
    r = runner.invoke(
        cli, ["watermark", "detect", str(only), "--key", str(keyfile), "--layers", "x"]
    )
    assert r.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["embed", "IN", "OUT", "--key", "KEY", "--payload", "123"],
        ["embed", "IN", "OUT", "--key", "KEY", "--payload", "zz23456789abcdef"],
        ["embed", "IN", "out.mp3", "--key", "KEY", "--payload", "0123456789abcdef"],
        ["embed", "MISSING", "OUT", "--key", "KEY", "--payload", "0123456789abcdef"],
        ["detect", "BAD", "--key", "KEY"],
        ["detect", "IN", "--key", "SHORTKEY"],
        ["detect", "IN", "--key", "MISSING"],
        ["keygen", "KEY"],
    ],
)
def test_cli_bad_input_exit_2(tmp_path: Path, args: list[str], make_music: Music) -> None:
    key = tmp_path / "k.key"
    WatermarkKey.generate().save(key)
    (tmp_path / "short.key").write_bytes(b"x" * 20)
    src = tmp_path / "in.wav"
    sf.write(src, make_music(48000, 3.0, seed=15), 48000)
    (tmp_path / "bad.wav").write_bytes(b"not audio at all" * 10)
    sub = {
        "IN": str(src),
        "OUT": str(tmp_path / "o.wav"),
        "KEY": str(key),
        "SHORTKEY": str(tmp_path / "short.key"),
        "MISSING": str(tmp_path / "missing"),
        "BAD": str(tmp_path / "bad.wav"),
        "out.mp3": str(tmp_path / "out.mp3"),
    }
    r = CliRunner().invoke(cli, ["watermark", *[sub.get(a, a) for a in args]])
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
