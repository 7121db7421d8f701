"""Signing credentials: an operator's certificate chain, or a development CA made on first use.

C2PA validators reject a lone self-signed certificate, so the development chain is two
certificates: a CA (``basicConstraints CA``, ``keyCertSign``) and a signing certificate it
issued (``digitalSignature``, extended key usage ``emailProtection``, not a CA). Manifests signed
with it validate as **valid but untrusted**: the CA is on no trust list. Private keys are written
with mode 0600 and never printed; :meth:`SigningChain.describe` shows only public facts.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.c2pa.errors import SigningChainError

SigningAlg = Literal["ed25519", "es256"]
#: file names inside a development chain's folder
CA_CERT, CA_KEY, SIGN_CERT, SIGN_KEY = "ca.pem", "ca.key", "signer.pem", "signer.key"


@dataclass(frozen=True)
class SigningChain:
    """A signing certificate chain (PEM, leaf first) and its private key (PEM, PKCS#8)."""

    certs_pem: bytes
    key_pem: bytes = b""

    def __repr__(self) -> str:  # never show the key
        return f"SigningChain(leaf_serial={self.leaf_serial})"

    @classmethod
    def load(cls, cert_file: Path, key_file: Path) -> SigningChain:
        """Read a chain and key; raises :class:`SigningChainError` when unusable."""
        try:
            chain = cls(cert_file.read_bytes(), key_file.read_bytes())
        except OSError as exc:
            raise SigningChainError(f"cannot read the signing chain: {exc.strerror}") from None
        chain.alg  # noqa: B018 - validates the key type early
        return chain

    @property
    def certificates(self) -> list[x509.Certificate]:
        """The chain's certificates, leaf first."""
        try:
            certs = x509.load_pem_x509_certificates(self.certs_pem)
        except ValueError:
            raise SigningChainError("the signing certificate file is not PEM") from None
        if not certs:
            raise SigningChainError("the signing certificate file holds no certificate")
        return certs

    @property
    def alg(self) -> SigningAlg:
        """The signature algorithm the key implies (Ed25519 or ES256 on P-256)."""
        try:
            key = serialization.load_pem_private_key(self.key_pem, password=None)
        except (ValueError, TypeError):
            raise SigningChainError("the signing key is not an unencrypted PEM key") from None
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return "ed25519"
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
            return "es256"
        raise SigningChainError("the signing key must be Ed25519 or EC P-256")

    @property
    def leaf_serial(self) -> str:
        """The signing certificate's serial number in decimal (as c2pa reports it)."""
        return str(self.certificates[0].serial_number)

    def describe(self) -> dict[str, str]:
        """Public facts about the chain (safe to print): subject, issuer, serial, expiry."""
        leaf = self.certificates[0]
        return {
            "subject": leaf.subject.rfc4514_string(),
            "issuer": leaf.issuer.rfc4514_string(),
            "serial": str(leaf.serial_number),
            "not_after": leaf.not_valid_after_utc.isoformat(),
            "alg": self.alg,
        }


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def _new_key(alg: SigningAlg) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
    if alg == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_dev_chain(
    folder: Path, alg: SigningAlg = "ed25519", org: str = "provkit development"
) -> SigningChain:
    """Create a development CA and a signing certificate in ``folder`` (keys 0600).

    The CA lives 10 years, the signing certificate 366 days (C2PA's AL1 maximum); both keys use
    ``alg`` (the CA signs with ECDSA-SHA256 when ``es256``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = _new_key(alg), _new_key(alg)
    sig_hash = None if alg == "ed25519" else hashes.SHA256()
    ca_name = _name(f"{org} CA", org)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, sig_hash)
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{org} signer", org))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=366))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, sig_hash)
    )
    pem = serialization.Encoding.PEM
    _write_private(folder / CA_KEY, _pem(ca_key))
    _write_private(folder / SIGN_KEY, _pem(leaf_key))
    (folder / CA_CERT).write_bytes(ca.public_bytes(pem))
    (folder / SIGN_CERT).write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    return SigningChain((folder / SIGN_CERT).read_bytes(), (folder / SIGN_KEY).read_bytes())


def dev_chain(folder: Path, alg: SigningAlg = "ed25519") -> SigningChain:
    """The development chain in ``folder``, created on first use.

    It is made in a private temporary folder and renamed into place, so two processes starting
    together agree on one chain (the loser's is discarded)."""
    if not (folder / SIGN_KEY).exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}-{secrets.token_hex(6)}")
        create_dev_chain(tmp, alg)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process won the race: use its chain
            shutil.rmtree(tmp, ignore_errors=True)
    return SigningChain.load(folder / SIGN_CERT, folder / SIGN_KEY)
