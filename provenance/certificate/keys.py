"""Ed25519 signing keys, key ids and a keyring for rotation.

* A key file holds an unencrypted PKCS#8 PEM private key and is created with mode 0600; loading a
  key file that group or others can read is refused.
* The key id is the SHA-256 (hex) of the raw 32-byte public key.
* A :class:`Keyring` (a JSON file of public keys) lists the issuer keys a verifier trusts, with the
  time each was retired. Rotation adds the new key and retires the old one: certificates issued
  before the retirement stay verifiable, later ones signed by the retired key are rejected.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.certificate.canonical import loads
from provenance.certificate.errors import CertificateError, KeyFileError


def key_id_of(public_key: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: SHA-256, hex."""
    return hashlib.sha256(public_key).hexdigest()


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 and write ``data`` (refuses to overwrite)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists (refusing to overwrite)") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def read_private_file(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may read or write."""
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} is accessible by group/others (mode {st.st_mode & 0o777:o}); chmod 600 it"
        )
    return path.read_bytes()


class Signer:
    """An Ed25519 issuer key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key: bytes = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id: str = key_id_of(self.public_key)

    def __repr__(self) -> str:  # never shows key material
        return f"Signer(key_id={self.key_id[:16]}…)"

    @classmethod
    def generate(cls) -> Signer:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | Path) -> Signer:
        """Load a key file written by :meth:`save` (mode must be 0600 or stricter)."""
        p = Path(path)
        raw = read_private_file(p)
        try:
            key = serialization.load_pem_private_key(raw, password=None)
        except (ValueError, TypeError):
            raise KeyFileError(f"{p} is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{p} is not an Ed25519 key")
        return cls(key)

    def save(self, path: str | Path) -> Path:
        """Write the private key (PKCS#8 PEM, mode 0600) and ``PATH.pub`` (public key JSON)."""
        p = Path(path)
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private_file(p, pem)
        pub = p.with_name(p.name + ".pub")
        pub.write_text(json.dumps(self.public_info(), indent=2) + "\n")
        return pub

    def public_info(self) -> dict[str, str]:
        """The issuer block: algorithm, key id, public key (hex)."""
        return {"algorithm": "Ed25519", "key_id": self.key_id, "public_key": self.public_key.hex()}

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message`` (64 bytes)."""
        return self._key.sign(message)


_PUBLIC_CACHE: dict[bytes, Ed25519PublicKey] = {}


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    pk = _PUBLIC_CACHE.get(public_key)
    if pk is None:
        try:
            pk = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            return False
        if len(_PUBLIC_CACHE) > 1024:
            _PUBLIC_CACHE.clear()
        _PUBLIC_CACHE[public_key] = pk
    try:
        pk.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class TrustedKey:
    """A public key in a keyring."""

    key_id: str
    public_key: bytes
    added_at: datetime
    retired_at: datetime | None = None


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Keyring:
    """Issuer public keys a verifier trusts; persisted as a JSON file."""

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self._keys: dict[str, TrustedKey] = {k.key_id: k for k in keys or []}

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key_id: str) -> TrustedKey | None:
        """The trusted key with this id, if any."""
        return self._keys.get(key_id)

    def keys(self) -> list[TrustedKey]:
        """All keys, oldest first."""
        return sorted(self._keys.values(), key=lambda k: k.added_at)

    def add(self, public_key: bytes, *, now: datetime | None = None) -> TrustedKey:
        """Trust a public key (idempotent)."""
        if len(public_key) != 32:
            raise CertificateError("an Ed25519 public key has 32 bytes")
        kid = key_id_of(public_key)
        if kid not in self._keys:
            self._keys[kid] = TrustedKey(kid, public_key, now or datetime.now(UTC))
        return self._keys[kid]

    def retire(self, key_id: str, *, now: datetime | None = None) -> None:
        """Mark a key retired: it still verifies certificates issued before ``now``."""
        k = self._keys.get(key_id)
        if k is None:
            raise CertificateError(f"unknown key id {key_id}")
        if k.retired_at is None:
            self._keys[key_id] = TrustedKey(
                k.key_id, k.public_key, k.added_at, now or datetime.now(UTC)
            )

    def rotate(self, new: Signer, *, now: datetime | None = None) -> None:
        """Retire every active key and trust ``new``."""
        now = now or datetime.now(UTC)
        for k in list(self._keys.values()):
            if k.retired_at is None and k.key_id != new.key_id:
                self.retire(k.key_id, now=now)
        self.add(new.public_key, now=now)

    def to_json(self) -> str:
        """The keyring as JSON text."""
        return json.dumps(
            {
                "keys": [
                    {
                        "key_id": k.key_id,
                        "algorithm": "Ed25519",
                        "public_key": k.public_key.hex(),
                        "added_at": _ts(k.added_at),
                        "retired_at": _ts(k.retired_at) if k.retired_at else None,
                    }
                    for k in self.keys()
                ]
            },
            indent=2,
        )

    def save(self, path: str | Path) -> None:
        """Write the keyring file (atomically)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.to_json() + "\n")
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> Keyring:
        """Read a keyring file; a missing file is an error."""
        p = Path(path)
        try:
            data = loads(p.read_text())
            out = []
            for e in data["keys"]:
                pub = bytes.fromhex(e["public_key"])
                if len(pub) != 32 or key_id_of(pub) != e["key_id"]:
                    raise CertificateError(f"keyring {p}: key id does not match its public key")
                out.append(
                    TrustedKey(
                        e["key_id"],
                        pub,
                        datetime.fromisoformat(e["added_at"]),
                        datetime.fromisoformat(e["retired_at"]) if e.get("retired_at") else None,
                    )
                )
        except OSError as exc:
            raise CertificateError(f"cannot read keyring {p}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CertificateError(f"keyring {p} is malformed: {exc}") from None
        return cls(out)

    @classmethod
    def load_or_new(cls, path: str | Path) -> Keyring:
        """Read a keyring file, or an empty keyring when it does not exist yet."""
        return cls.load(path) if Path(path).exists() else cls()
