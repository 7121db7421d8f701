"""The GB 45438 AIGC label in every format, read back by independent readers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.c2pa import (
    GenerationFacts,
    ManifestReader,
    ManifestSigner,
    SigningChain,
    build_manifest,
)
from provenance.labels import AigcLabel, LabelError, read_label, read_label_text, write_label

KEY = b"k" * 32
ALL = ["wav", "flac", "mp3", "m4a", "mp4", "ogg"]

#: a reader that shares no code with provkit: mutagen's own API, in a fresh interpreter
INDEPENDENT = r"""
import sys, mutagen
from mutagen._riff import RiffFile
p = sys.argv[1]
if p.endswith(".wav"):
    with open(p, "rb") as f:
        print(RiffFile(f)["AIGC"].read().decode())
elif p.endswith(".mp3"):
    print(mutagen.File(p).tags.getall("TXXX:AIGC")[0].text[0])
elif p.endswith((".mp4", ".m4a")):
    print(bytes(mutagen.File(p).tags["----:cn.org.tc260:AIGC"][0]).decode())
else:
    print(mutagen.File(p).tags["AIGC"][0])
"""


def _label(produce_id: str = "42") -> AigcLabel:
    return AigcLabel("1", "provkit", produce_id).sealed(KEY)


@pytest.mark.parametrize("ext", ALL)
def test_label_reads_back_in_another_process(ext: str, clip) -> None:  # type: ignore[no-untyped-def]
    path = clip(ext)
    write_label(path, _label())
    write_label(path, _label("43"))  # a rewrite replaces, never duplicates
    out = subprocess.run(
        [sys.executable, "-c", INDEPENDENT, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    obj = json.loads(out)
    assert list(obj) == [
        "Label",
        "ContentProducer",
        "ProduceID",
        "ReservedCode1",
        "ContentPropagator",
        "PropagateID",
        "ReservedCode2",
    ]
    assert obj["Label"] == "1" and obj["ProduceID"] == "43"
    assert obj["ReservedCode1"].startswith("hmac-sha256:")
    assert read_label(path) == _label("43")


@pytest.mark.parametrize("ext", ["flac", "mp3", "m4a", "mp4"])
def test_ffprobe_sees_the_tag(ext: str, clip) -> None:  # type: ignore[no-untyped-def]
    exe = shutil.which("ffprobe")
    if exe is None:
        pytest.skip("ffprobe is not installed")
    path = clip(ext)
    write_label(path, _label())
    out = subprocess.run(
        [exe, "-v", "error", "-show_entries", "format_tags=AIGC", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(json.loads(out)["format"]["tags"]["AIGC"])["ProduceID"] == "42"


@pytest.mark.parametrize("ext", ["wav", "mp4"])
def test_tampered_label_is_reported(ext: str, clip) -> None:  # type: ignore[no-untyped-def]
    path = clip(ext)
    write_label(path, _label("42"))
    text = read_label_text(path)
    assert text is not None
    forged = json.loads(text)
    forged["ProduceID"] = "41"  # pointed at another generation, MAC kept
    write_label(path, AigcLabel(**forged))
    found = read_label(path)
    assert found is not None
    assert found.integrity(KEY) == "tampered"
    assert found.integrity(None) == "unchecked"
    assert _label().integrity(KEY) == "valid"
    assert AigcLabel("1", "someone else", "x").integrity(KEY) == "unsigned"


def test_label_then_manifest_binds_the_label(clip, chain: SigningChain) -> None:  # type: ignore[no-untyped-def]
    path = clip("flac")
    write_label(path, _label())
    ManifestSigner(chain).sign_file(
        path, build_manifest(GenerationFacts(1, "00" * 8, "m", path.name))
    )
    assert ManifestReader().read(path).state == "valid_untrusted"
    assert read_label(path) == _label()
    write_label(path, _label("7"))  # relabelled after signing: the manifest no longer matches
    assert ManifestReader().read(path).state == "invalid"


def test_bad_input_is_one_clear_error(tmp_path: Path, clip) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LabelError, match="AIGC labels go in"):
        write_label(tmp_path / "x.txt", _label())
    with pytest.raises(LabelError, match="Label must be"):
        AigcLabel("9", "p", "1")
    with pytest.raises(LabelError, match="not JSON"):
        AigcLabel.from_json("{")
    assert (
        AigcLabel.from_json(json.dumps({"AIGC": {"Label": "2", "ContentProducer": "x"}})).Label
        == "2"
    )
    assert read_label(clip("mp3")) is None
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"not flac at all")
    with pytest.raises(LabelError):
        read_label(broken)
