"""C2PA Content Credentials for provkit's generated media: build, sign, read, validate.

>>> from pathlib import Path
>>> chain = dev_chain(Path("keys/c2pa"))                       # doctest: +SKIP
>>> facts = GenerationFacts(7, "00112233aabbccdd", "ref-1", "audio.wav",
...                         watermark_spans=((0, 4000),))      # doctest: +SKIP
>>> store = ManifestSigner(chain).sign_file(Path("audio.wav"), build_manifest(facts))  # doctest: +SKIP
>>> ManifestReader().read(Path("audio.wav")).state            # doctest: +SKIP
'valid_untrusted'

Pure: no service imports. The soft-binding algorithms provkit defines are in
:mod:`provenance.c2pa.algorithms` and ``docs/c2pa.md``.
"""

from provenance.c2pa.algorithms import (
    ALGORITHMS,
    PDQ_ALG,
    WATERMARK_ALG,
    decode_value,
    encode_value,
)
from provenance.c2pa.chain import SigningAlg, SigningChain, create_dev_chain, dev_chain
from provenance.c2pa.errors import ManifestError, SigningChainError
from provenance.c2pa.manifest import (
    GenerationFacts,
    SoftBindingBlock,
    build_manifest,
    manifest_id,
    mark_of_manifest_id,
)
from provenance.c2pa.read import SIDECAR_SUFFIX, ManifestCheck, ManifestReader
from provenance.c2pa.sign import EMBEDDED, ManifestSigner, mime_of

__all__ = [
    "ALGORITHMS",
    "EMBEDDED",
    "PDQ_ALG",
    "SIDECAR_SUFFIX",
    "WATERMARK_ALG",
    "GenerationFacts",
    "ManifestCheck",
    "ManifestError",
    "ManifestReader",
    "ManifestSigner",
    "SigningAlg",
    "SigningChain",
    "SigningChainError",
    "SoftBindingBlock",
    "build_manifest",
    "create_dev_chain",
    "decode_value",
    "dev_chain",
    "encode_value",
    "manifest_id",
    "mark_of_manifest_id",
    "mime_of",
]
