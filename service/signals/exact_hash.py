"""The exact-hash signal: the upload's SHA-256 is the hash of a file the platform generated.

The cheapest signal (one indexed lookup) and the most certain; any re-encode defeats it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from service.signals import register
from service.signals.base import Claim, Signal, SignalResult, Upload, VerifyContext


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

    def blank(self) -> dict[str, Any]:
        return {"matches": []}

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        records = ctx.svc.registry.by_media_sha256(upload.sha256)
        return self.result(
            "pass" if records else "fail",
            claims=[Claim("strong", "hash", record_id=g.id) for g in records],
            evidence={"matches": [g.mark_hex for g in records]},
        )
