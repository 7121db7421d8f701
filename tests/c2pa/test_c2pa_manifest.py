"""Manifests signed into every format c2pa embeds in, read back by c2pa's own Reader."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import c2pa
import pytest

from provenance.c2pa import (
    PDQ_ALG,
    WATERMARK_ALG,
    GenerationFacts,
    ManifestError,
    ManifestReader,
    ManifestSigner,
    SigningChain,
    SoftBindingBlock,
    build_manifest,
    decode_value,
    manifest_id,
    mark_of_manifest_id,
)

EMBEDDED = ["wav", "flac", "mp3", "m4a", "mp4"]
MARK = "00112233aabbccdd"
#: the check each container's hard binding fails when a content byte changes
MISMATCH = {
    "wav": "assertion.dataHash.mismatch",
    "flac": "assertion.dataHash.mismatch",
    "mp3": "assertion.dataHash.mismatch",
    "m4a": "assertion.bmffHash.mismatch",
    "mp4": "assertion.bmffHash.mismatch",
}


def _facts(name: str) -> GenerationFacts:
    pdq = SoftBindingBlock(0, 1000, bytes(range(32)))
    return GenerationFacts(
        7,
        MARK,
        "ref-1",
        name,
        watermark_spans=((0, 2000),),
        keyframes=(pdq,),
        certificate={"id": "cert-1", "sha256": "ab" * 32},
    )


def _sign(chain: SigningChain, path: Path) -> bytes:
    return ManifestSigner(chain).sign_file(path, build_manifest(_facts(path.name)))


@pytest.mark.parametrize("ext", EMBEDDED)
def test_round_trip_with_c2pa_reader(ext: str, clip, chain: SigningChain) -> None:  # type: ignore[no-untyped-def]
    path = clip(ext)
    _sign(chain, path)
    with c2pa.Reader(str(path)) as reader:  # the library's own reader, no provkit code
        assert reader.get_validation_state() == "Valid"  # valid; untrusted: no trust anchor
        active = reader.get_active_manifest()
    assert active["label"] == manifest_id(MARK, path.name)
    by_label = {
        a["label"]: a["data"] for a in active["assertions"] if a["label"] != "c2pa.soft-binding"
    }
    action = by_label["c2pa.actions.v2"]["actions"][0]
    assert action["action"] == "c2pa.created"
    assert action["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert action["softwareAgent"]["name"] == "provkit"
    assert by_label["org.provkit.generation"]["mark_id"] == MARK
    assert by_label["org.provkit.certificate"] == {"id": "cert-1", "sha256": "ab" * 32}
    bindings = {
        a["data"]["alg"]: a["data"]
        for a in active["assertions"]
        if a["label"] == "c2pa.soft-binding"
    }
    assert set(bindings) == {WATERMARK_ALG, PDQ_ALG}
    wm = bindings[WATERMARK_ALG]["blocks"][0]
    assert wm["scope"]["timespan"] == {"start": 0, "end": 2000}
    assert decode_value(WATERMARK_ALG, wm["value"]) == bytes.fromhex(MARK)
    assert decode_value(PDQ_ALG, bindings[PDQ_ALG]["blocks"][0]["value"]) == bytes(range(32))
    check = ManifestReader().read(path)
    assert check.state == "valid_untrusted"
    assert [f.code for f in check.failures] == ["signingCredential.untrusted"]


@pytest.mark.parametrize("ext", EMBEDDED)
def test_one_flipped_content_byte_is_invalid(ext: str, clip, chain: SigningChain) -> None:  # type: ignore[no-untyped-def]
    path = clip(ext)
    _sign(chain, path)
    data = bytearray(path.read_bytes())
    # a byte in the middle of the media data (the manifest sits at the start or the end)
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    check = ManifestReader().read(path)
    assert check.state == "invalid"
    assert MISMATCH[ext] in {f.code for f in check.failures}
    with c2pa.Reader(str(path)) as reader:
        assert reader.get_validation_state() == "Invalid"


def test_trusted_only_with_the_anchor(clip, chain: SigningChain, chain_dir: Path) -> None:  # type: ignore[no-untyped-def]
    path = clip("wav")
    _sign(chain, path)
    assert ManifestReader((chain_dir / "ca.pem").read_text()).read(path).state == "trusted"
    other = SigningChain.load(chain_dir / "signer.pem", chain_dir / "signer.key")
    assert other.leaf_serial == chain.leaf_serial
    assert ManifestReader().read(path).state == "valid_untrusted"


def test_stored_copy_reads_alone(clip, chain: SigningChain) -> None:  # type: ignore[no-untyped-def]
    path = clip("mp4")
    store = _sign(chain, path)
    check = ManifestReader().read_store(store)
    assert check.state == "valid_untrusted"
    assert check.hard_binding == "not_checked"
    assert check.generation is not None and check.generation["mark_id"] == MARK
    # c2pa's reader also takes the store as a sidecar of the signed file
    with path.open("rb") as f, c2pa.Reader("video/mp4", f, store) as r:
        assert r.get_validation_state() == "Valid"
    with pytest.raises(ManifestError):
        ManifestReader().read_store(b"not a manifest store")
    bad = bytearray(store)
    bad[-40] ^= 0x01  # inside the signature
    assert ManifestReader().read_store(bytes(bad)).state == "invalid"


def test_ogg_has_no_manifest_and_says_why(clip, chain: SigningChain) -> None:  # type: ignore[no-untyped-def]
    path = clip("ogg")
    with pytest.raises(ManifestError, match="C2PA manifests go in"):
        _sign(chain, path)
    assert ManifestReader().read(path).state == "absent"


def test_unsigned_file_is_absent(clip) -> None:  # type: ignore[no-untyped-def]
    assert ManifestReader().read(clip("wav")).state == "absent"


def test_manifest_ids_carry_the_mark() -> None:
    mid = manifest_id("ffEEddccbbaa9988", "video.mp4")
    assert mid.startswith("urn:c2pa:ffeeddcc-bbaa-4998-88")
    assert mark_of_manifest_id(mid) == "ffeeddccbbaa9988"
    assert manifest_id("ffeeddccbbaa9988", "audio.flac") != mid
    assert mark_of_manifest_id("urn:c2pa:00000000-0000-0000-0000-000000000000") is None
    assert mark_of_manifest_id("not an id") is None


def test_values_are_checked() -> None:
    with pytest.raises(ManifestError, match="unsupported"):
        decode_value("com.example.wm.1", "AAAA")
    with pytest.raises(ManifestError, match="8 bytes"):
        decode_value(WATERMARK_ALG, "AAAA")
    with pytest.raises(ManifestError, match="base64"):
        decode_value(WATERMARK_ALG, "!!!")
    # base64url without padding is accepted too (query strings)
    assert decode_value(PDQ_ALG, "_" * 43) == decode_value(PDQ_ALG, "/" * 43 + "=")


def test_dev_chain_keys_are_private(chain_dir: Path, chain: SigningChain) -> None:
    for name in ("ca.key", "signer.key"):
        assert stat.S_IMODE(os.stat(chain_dir / name).st_mode) == 0o600
    assert "PRIVATE" not in repr(chain)
    assert "PRIVATE" not in json.dumps(chain.describe())
    certs = chain.certificates
    assert len(certs) == 2 and certs[0].issuer == certs[1].subject


def test_es256_chain_signs(tmp_path: Path, clip) -> None:  # type: ignore[no-untyped-def]
    from provenance.c2pa import create_dev_chain

    es = create_dev_chain(tmp_path / "es", "es256")
    assert es.alg == "es256"
    path = clip("wav")
    _sign(es, path)
    assert ManifestReader().read(path).signer["alg"] == "Es256"


def test_a_lone_store_is_not_a_file(chain: SigningChain, clip) -> None:  # type: ignore[no-untyped-def]
    store = _sign(chain, clip("wav"))
    with c2pa.Reader("application/c2pa", io.BytesIO(store)) as r:
        # without its asset the hard binding cannot match: c2pa says invalid, provkit's
        # store reading names that as not checked rather than failed
        assert r.get_validation_state() == "Invalid"
