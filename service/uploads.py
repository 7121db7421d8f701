"""Uploads streamed to disk with a size cap and a safe name (never the client's path)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK = 1 << 20


class UploadTooLarge(ValueError):
    """The upload passed the size cap."""


@dataclass(frozen=True)
class StoredUpload:
    """An upload on local disk."""

    path: Path
    size: int
    sha256: str
    filename: str


def safe_name(name: str | None, default: str = "upload") -> str:
    """A file name with no directories, no traversal and only portable characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE.sub("_", base).lstrip(".")[:120]
    return base or default


async def save_upload(upload: UploadFile, directory: Path, max_bytes: int) -> StoredUpload:
    """Stream ``upload`` into a new file under ``directory``, hashing as it goes.

    The file keeps the upload's (sanitized) suffix so decoders can use it as a hint. On any error
    the partial file is removed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = safe_name(upload.filename)
    suffix = Path(name).suffix[:10]
    fd, tmp = tempfile.mkstemp(prefix="up-", suffix=suffix, dir=directory)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(f"upload larger than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if size == 0:
        Path(tmp).unlink(missing_ok=True)
        raise ValueError("the upload is empty")
    return StoredUpload(Path(tmp), size, digest.hexdigest(), name)
