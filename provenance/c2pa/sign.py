"""Signing a manifest into a file, or beside it.

c2pa-python (c2pa-rs) embeds the manifest store in WAV (a ``C2PA`` RIFF chunk), FLAC, MP3 (ID3
``GEOB``), M4A and MP4 (a ``uuid`` box); :data:`EMBEDDED` lists the suffixes. For other formats
(Ogg, Opus) the library cannot compute a hard binding, so no manifest is signed; the file keeps
its label, watermark and fingerprint, and the caller says so. Every signature also returns the
manifest store's bytes (``application/c2pa``), which the caller keeps as a sidecar ``.c2pa`` file
for resolution when the embedded copy is stripped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import c2pa

from provenance.c2pa.chain import SigningChain
from provenance.c2pa.errors import ManifestError, SigningChainError

#: suffix → MIME type of the formats a manifest is embedded in
EMBEDDED: dict[str, str] = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
}
_ALGS = {"ed25519": c2pa.C2paSigningAlg.ED25519, "es256": c2pa.C2paSigningAlg.ES256}


def mime_of(path: Path) -> str:
    """The MIME type a manifest for ``path`` is signed as; :class:`ManifestError` when the
    format cannot carry one."""
    mime = EMBEDDED.get(path.suffix.lower())
    if mime is None:
        supported = ", ".join(sorted(EMBEDDED))
        raise ManifestError(f"{path.suffix or 'this format'}: C2PA manifests go in {supported}")
    return mime


class ManifestSigner:
    """Signs manifests with one chain. Built once (parsing the key costs), then reused."""

    def __init__(self, chain: SigningChain) -> None:
        self.chain = chain
        try:
            info = c2pa.C2paSignerInfo(_ALGS[chain.alg], chain.certs_pem, chain.key_pem, None)
            self._signer = c2pa.Signer.from_info(info)
        except c2pa.C2paError as exc:
            raise SigningChainError(f"the C2PA library rejects the chain: {exc}") from None

    def sign_file(self, path: Path, manifest: dict[str, Any], dest: Path | None = None) -> bytes:
        """Sign ``manifest`` into ``path`` (in place, or into ``dest``) → the manifest store.

        The file is replaced atomically: a failure leaves it as it was.
        """
        mime = mime_of(path)
        out = dest or path
        tmp = out.with_name(f".{out.name}.signing")
        try:
            builder = c2pa.Builder(json.dumps(manifest))
            with path.open("rb") as src, tmp.open("w+b") as dst:
                store = builder.sign(self._signer, mime, src, dst)
            os.replace(tmp, out)
        except c2pa.C2paError as exc:
            raise ManifestError(f"{path.name}: signing failed: {exc}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return bytes(store)
