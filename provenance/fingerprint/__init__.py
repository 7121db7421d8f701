"""Video fingerprints: PDQ-compatible frame hashes, a hash index and temporal matching.

A registered video is a list of 256-bit PDQ frame hashes with their times. A query video is
fingerprinted the same way; every frame is searched in a binary hash index (FAISS exact search
for small collections, a multi-index hash at scale), and the hits vote
for (source video, time offset), which also finds several sources inside a compilation and
horizontally mirrored copies.
"""

from provenance.fingerprint.accel import set_accelerator
from provenance.fingerprint.errors import DecodeLimitError, FingerprintError
from provenance.fingerprint.faiss_index import HashIndex
from provenance.fingerprint.index import DEFAULT_THRESHOLD, FingerprintIndex, default_index_path
from provenance.fingerprint.matching import VideoMatch
from provenance.fingerprint.pdq import (
    DIHEDRAL,
    from_hex,
    hamming,
    pdq_dihedral,
    pdq_hash,
    pdq_hash_image,
    to_hex,
)
from provenance.fingerprint.video import VideoFingerprint, fingerprint_query, fingerprint_video

__all__ = [
    "DEFAULT_THRESHOLD",
    "DIHEDRAL",
    "DecodeLimitError",
    "FingerprintError",
    "FingerprintIndex",
    "HashIndex",
    "VideoFingerprint",
    "VideoMatch",
    "default_index_path",
    "fingerprint_query",
    "fingerprint_video",
    "from_hex",
    "hamming",
    "pdq_dihedral",
    "pdq_hash",
    "pdq_hash_image",
    "set_accelerator",
    "to_hex",
]
