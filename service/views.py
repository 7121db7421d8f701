"""One JSON view per object, shared by the API, the CLI's ``--json`` and the web page.

A generation record, the summary of its newest certificate, an upload's media facts and a
background job each have exactly one shape, built here. (A screening decision's view is
:meth:`screening.Decision.to_dict`; a signal's is :meth:`service.signals.SignalResult.view`.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.certificate import CertificateStore
    from provenance.registry import Generation
    from service.jobs import Job
    from service.signals import Upload


def iso_utc(t: datetime) -> str:
    """An ISO 8601 time with its UTC offset (the store keeps UTC; SQLite hands it back naive)."""
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).isoformat()


def generation_view(g: Generation, admin: bool) -> dict[str, Any]:
    """A record as callers see it: user id and prompt hash for admins only."""
    out: dict[str, Any] = {
        "id": g.id,
        "mark_id": g.mark_hex,
        "model": g.model,
        "preset_id": g.preset_id,
        "created_at": iso_utc(g.created_at),
        "disclosure": g.disclosure,
        "status": g.status,
        "media": [{"kind": m.kind, "name": m.name, "sha256": m.sha256} for m in g.media],
    }
    if admin:
        out["user_id"] = g.user_id
        out["prompt_sha256"] = g.prompt_sha256
    return out


def certificate_view(store: CertificateStore, gen: Generation) -> dict[str, Any] | None:
    """Summary of the newest certificate minted for a generation, if any."""
    ids = store.find(generation_id=str(gen.id), limit=1)
    if not ids:
        return None
    doc = store.get(ids[0]).to_dict()
    contribution = doc.get("contribution") or {}
    anchor = doc.get("anchor") or {}
    return {
        "certificate_id": ids[0],
        "issued_at": doc.get("issued_at"),
        "score": contribution.get("score"),
        "profile": contribution.get("profile"),
        "anchor_status": anchor.get("status"),
        "summary": f"human contribution {contribution.get('score')} "
        f"({contribution.get('profile')} rubric), anchor {anchor.get('status')}",
    }


def media_view(upload: Upload) -> dict[str, Any]:
    """What the verdict document says about the file itself."""
    info = upload.info
    return {
        "sha256": upload.sha256,
        "container": info.container,
        "duration_s": round(info.duration_s, 3),
        "has_audio": info.has_audio,
        "has_video": info.has_video,
        "sample_rate": info.sample_rate or None,
        "width": info.width or None,
        "height": info.height or None,
    }


def job_view(job: Job) -> dict[str, Any]:
    """A background job: status, times, and its result or error once finished."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "created_at": iso_utc(job.created_at),
        "updated_at": iso_utc(job.updated_at),
        "result": job.result,
        "error": job.error,
    }
