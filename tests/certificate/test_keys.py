"""Key files (0600), key ids and keyring rotation."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.certificate import CertificateError, KeyFileError, Keyring, Signer, key_id_of


def test_save_load_roundtrip_with_0600(tmp_path: Path) -> None:
    s = Signer.generate()
    pub = s.save(tmp_path / "k.key")
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert pub.name == "k.key.pub" and s.key_id in pub.read_text()
    t = Signer.load(tmp_path / "k.key")
    assert (
        t.key_id == s.key_id == hashlib.sha256(s.public_key).hexdigest() == key_id_of(s.public_key)
    )
    assert s.key_id[:16] in repr(t) and "PRIVATE" not in repr(t)
    with pytest.raises(KeyFileError, match="already exists"):
        s.save(tmp_path / "k.key")


def test_load_refuses_open_or_bad_files(tmp_path: Path) -> None:
    s = Signer.generate()
    s.save(tmp_path / "k.key")
    os.chmod(tmp_path / "k.key", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        Signer.load(tmp_path / "k.key")
    with pytest.raises(KeyFileError, match="cannot read"):
        Signer.load(tmp_path / "missing.key")
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"not a key")
    os.chmod(junk, 0o600)
    with pytest.raises(KeyFileError, match="PEM"):
        Signer.load(junk)


def test_keyring_rotation(tmp_path: Path) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    old, new = Signer.generate(), Signer.generate()
    ring = Keyring()
    ring.add(old.public_key, now=t0)
    ring.rotate(new, now=t0 + timedelta(days=30))
    ring.save(tmp_path / "ring.json")
    back = Keyring.load(tmp_path / "ring.json")
    assert len(back) == 2
    o, n = back.get(old.key_id), back.get(new.key_id)
    assert o is not None and o.retired_at == t0 + timedelta(days=30)
    assert n is not None and n.retired_at is None
    with pytest.raises(CertificateError):
        back.retire("0" * 64)
    (tmp_path / "bad.json").write_text('{"keys": [{"key_id": "00", "public_key": "11"}]}')
    with pytest.raises(CertificateError, match=r"malformed|does not match"):
        Keyring.load(tmp_path / "bad.json")
    assert len(Keyring.load_or_new(tmp_path / "none.json")) == 0
