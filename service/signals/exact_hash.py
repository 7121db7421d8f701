"""The exact-hash signal: the upload's SHA-256 is the hash of a file the platform generated.

The cheapest signal (one indexed lookup) and the most certain; any re-encode defeats it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

from provenance.registry import MediaHash
from service.signals import register
from service.signals.base import Claim, GenerateJob, Signal, SignalResult, Upload, VerifyContext


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@register
class ExactHash(Signal):
    """A registered media file's SHA-256 equals the upload's."""

    name = "exact_hash"
    cost = 0
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "hash": {
            "en": "exact media hash of a registered file",
            "zh": "与已登记文件的哈希完全一致",
        },
    }

    #: last: every other signal has finished changing the files
    generate_order = 90

    def blank(self) -> dict[str, Any]:
        return {"matches": []}

    def enrol(self, job: GenerateJob) -> None:
        """Attach the final files' hashes to the record (they go with it on failure)."""
        hashes = [MediaHash(kind, p.name, sha256_file(p)) for kind, p in job.files]
        job.svc.registry.add_media(job.record_id, hashes)

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        records = ctx.svc.registry.by_media_sha256(upload.sha256)
        return self.result(
            "pass" if records else "fail",
            claims=[Claim("strong", "hash", record_id=g.id) for g in records],
            evidence={"matches": [g.mark_hex for g in records]},
        )
