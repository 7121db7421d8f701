"""The C2PA signal: Content Credentials signed into each generated file, read from uploads.

Generate (``stamp``, order 30, after the AIGC label so that the manifest's hard binding covers
it): each file in a format c2pa embeds in (:data:`provenance.c2pa.EMBEDDED`) gets a manifest
(:mod:`provenance.c2pa.manifest`) with soft bindings for the watermark (the mark id over the
file's audio) and, for video, the PDQ hashes of its key frames; the manifest store is also kept
beside the media as ``<file>.c2pa`` (the resolution API serves it; it goes with the media).

Verify: the upload's manifest is read and validated (``trusted`` / ``valid_untrusted`` /
``invalid`` with the failing checks, or ``absent``). Claims:

* ``c2pa_manifest`` (**strong**): a manifest that validates, signed by a certificate that this
  service's own CA issued (checked cryptographically, by a reader that trusts only that CA, and
  by serial number), names generation ``generation_id`` with its mark id. Only this service's key
  can make one, and its hard binding matched, so the upload is that file.
* ``c2pa_invalid`` (weak): a manifest is there but fails validation (``checks`` names them): the
  file was changed after signing, or the manifest forged.
* ``c2pa_declared`` (weak): a valid manifest from another signer declares AI generation
  (a ``trainedAlgorithmicMedia`` digital source type).

No manifest (stripped by a re-encode, say): when earlier signals (watermark, fingerprint) named a
generation, its stored manifests are read and returned under ``recovered`` (the hard binding is
not checked: it covers the original bytes, not the re-encoded copy), with no new claim.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from provenance.c2pa import (
    EMBEDDED,
    SIDECAR_SUFFIX,
    GenerationFacts,
    ManifestCheck,
    ManifestError,
    SoftBindingBlock,
    build_manifest,
    manifest_id,
)
from service.errors import PipelineError
from service.media import probe
from service.signals import register
from service.signals.base import Claim, GenerateJob, Signal, SignalResult, Upload, VerifyContext

if TYPE_CHECKING:
    from service.context import Services

AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")


def provkit_version() -> str:
    """The installed provkit version (the manifest's generator version)."""
    try:
        return metadata.version("provkit")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def stored_manifests(svc: Services, mark_hex: str) -> list[tuple[str, Path]]:
    """``(manifest id, store file)`` of every manifest kept for a generation's files."""
    folder = svc.settings.media_dir / mark_hex
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob("*" + SIDECAR_SUFFIX)):
        out.append((manifest_id(mark_hex, p.name[: -len(SIDECAR_SUFFIX)]), p))
    return out


def keyframe_blocks(video: Path) -> tuple[SoftBindingBlock, ...]:
    """PDQ soft-binding blocks of a video's key frames: each from its frame to the next."""
    from provenance.fingerprint import fingerprint_video

    fp = fingerprint_video(video, keyframes_only=True, crop_hashes=False, sample_fps=None)
    ms = [round(float(t) * 1000) for t in fp.times]
    end = round(float(fp.duration) * 1000) if fp.duration else (ms[-1] + 1000 if ms else 0)
    return tuple(
        SoftBindingBlock(start, max(start + 1, ms[i + 1] if i + 1 < len(ms) else end), bytes(h))
        for i, (start, h) in enumerate(zip(ms, fp.hashes, strict=True))
    )


@register
class C2paSignal(Signal):
    """C2PA Content Credentials (:mod:`provenance.c2pa`)."""

    name = "c2pa"
    cost = 30
    generate_order = 30
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "c2pa_manifest": {
            "en": "C2PA manifest signed by this service names generation {mark_id}",
            "zh": "本服务签署的 C2PA 清单指向生成记录 {mark_id}",
        },
        "c2pa_invalid": {
            "en": "C2PA manifest fails validation ({checks})",
            "zh": "C2PA 清单校验失败（{checks}）",
        },
        "c2pa_declared": {
            "en": "C2PA manifest signed by {signer} declares AI-generated content",
            "zh": "{signer} 签署的 C2PA 清单声明内容由 AI 生成",
        },
    }

    def stamp(self, job: GenerateJob) -> None:
        """Sign a manifest into every file c2pa can embed in; keep each store beside it."""
        svc = job.svc
        if not svc.settings.c2pa_enabled:
            job.facts[self.name] = None
            return
        signed: list[dict[str, str]] = []
        for kind, p in job.files:
            if p.suffix.lower() not in EMBEDDED:
                continue
            info = probe(p, svc.limits)
            spans = (
                ((0, round(info.duration_s * 1000)),) if job.media.audio and info.has_audio else ()
            )
            facts = GenerationFacts(
                generation_id=job.record_id,
                mark_hex=job.mark_hex,
                model=job.model,
                file_name=p.name,
                generator_version=provkit_version(),
                created_at=job.created_at.isoformat(),
                watermark_spans=spans,
                keyframes=keyframe_blocks(p) if kind == "video" else (),
                certificate=_certificate(job.facts),
            )
            try:
                store = svc.manifest_signer.sign_file(p, build_manifest(facts))
            except ManifestError as exc:  # a bad chain is the deployment's fault, not the request's
                raise PipelineError(f"C2PA signing failed: {exc}") from None
            (job.work / (p.name + SIDECAR_SUFFIX)).write_bytes(store)
            signed.append({"file": p.name, "manifest_id": manifest_id(job.mark_hex, p.name)})
        job.facts[self.name] = {"manifests": signed, "signer": svc.c2pa_chain.describe()}

    def blank(self) -> dict[str, Any]:
        return {"checked": False, "manifest": None, "recovered": []}

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        svc = ctx.svc
        found = svc.manifest_reader.read(upload.path)
        if found.state == "absent":
            recovered = recover(svc, ctx)
            evidence = {"checked": True, "manifest": None, "recovered": recovered}
            if recovered:
                why = "no manifest in the file; the stored manifest was found through the registry"
                return self.result("pass", evidence=evidence, reason=why)
            return self.result("fail", evidence=evidence, reason="no C2PA manifest")
        try:
            claims = manifest_claims(svc, upload.path, found)
        except ManifestError as exc:  # this service's own chain is unusable
            return self.result("error", reason=str(exc))
        view = {"checked": True, "manifest": found.to_dict(), "recovered": []}
        return self.result("pass", claims=claims, evidence=view)


def _certificate(facts: dict[str, Any]) -> dict[str, str] | None:
    cert = facts.get("certificate")
    if isinstance(cert, dict) and cert.get("id") and cert.get("sha256"):
        return {"id": str(cert["id"]), "sha256": str(cert["sha256"])}
    return None


def manifest_claims(svc: Services, path: Path, found: ManifestCheck) -> list[Claim]:
    """The manifest's rule (see the module docstring)."""
    if found.state == "invalid":
        checks = ", ".join(
            sorted({f.code for f in found.failures} - {"signingCredential.untrusted"})
        )
        return [Claim("weak", "c2pa_invalid", {"checks": checks or "unknown"})]
    gen = found.generation
    ours = str(found.signer.get("cert_serial_number")) == svc.c2pa_chain.leaf_serial
    if ours and gen is not None and svc.own_manifest_reader.read(path).state == "trusted":
        rec = svc.registry.get(int(gen.get("generation_id", -1)))
        if rec is not None and rec.mark_hex == gen.get("mark_id"):
            return [Claim("strong", "c2pa_manifest", {"mark_id": rec.mark_hex}, rec.id)]
    actions = found.to_dict()["actions"]
    if any(str(a.get("digitalSourceType", "")).endswith(AI_SOURCE_TYPES) for a in actions):
        signer = str(found.signer.get("common_name") or found.signer.get("issuer") or "unknown")
        return [Claim("weak", "c2pa_declared", {"signer": signer})]
    return []


def recover(svc: Services, ctx: VerifyContext) -> list[dict[str, Any]]:
    """The stored manifests of the generations earlier signals named, each with ``via``."""
    out: list[dict[str, Any]] = []
    for rec_id in sorted(ctx.named_records()):
        gen = svc.registry.get(rec_id)
        if gen is None:
            continue
        via = sorted(
            {
                r.name
                for r in ctx.results
                for c in r.claims
                if c.record_id == rec_id and c.strength == "strong"
            }
        )
        for mid, p in stored_manifests(svc, gen.mark_hex):
            try:
                view = svc.manifest_reader.read_store(p.read_bytes()).to_dict()
            except (OSError, ManifestError) as exc:
                view = {
                    "state": "invalid",
                    "manifest_id": mid,
                    "failures": [{"code": "store.unreadable", "explanation": str(exc)}],
                }
            out.append({**view, "via": via, "url": f"/manifests/{mid}"})
    return out
