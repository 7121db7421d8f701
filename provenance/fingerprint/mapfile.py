"""A file of named numpy arrays that several processes map read-only: one copy in memory.

The local index's arrays (hashes, ids, multi-index hash tables, video keys, times) are written
once into one file and every worker on the machine maps it with ``mmap``: the kernel keeps one
physical copy of each page in the page cache, whatever the number of processes mapping it.

```
    offset 0     b"PKFPMAP1"  | header length (8 bytes, little-endian) | JSON header
                 {"meta": {...}, "arrays": {name: [offset, dtype, shape], ...}}
    4096-aligned array bytes, one after the other (each starts on a page)
```

A file is never changed after it is written. A new version is written to a temporary file in the
same folder and renamed over the old name (:func:`write`), so a reader opening the name gets
either the old or the new file whole, and a process that still maps the old file keeps reading
it (its pages are freed when the last mapping goes).
"""

from __future__ import annotations

import json
import mmap
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.fingerprint.errors import FingerprintError

MAGIC = b"PKFPMAP1"
_ALIGN = 4096
_PAD = bytes(_ALIGN)


@dataclass(frozen=True)
class MappedFile:
    """An opened file: its metadata, its arrays (read-only views of the mapping) and the
    identity of the file (device, inode, size) to tell when the name points elsewhere."""

    meta: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]
    identity: tuple[int, int, int]

    def touch(self) -> int:
        """Read one byte of every page (so the pages are resident before the first query);
        returns the bytes mapped."""
        total = 0
        for a in self.arrays.values():
            if a.nbytes:
                flat = a.reshape(-1).view(np.uint8)
                int(flat[::_ALIGN].sum())
                total += a.nbytes
        return total


def identity(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """``(device, inode, size)`` of the file at ``path``; ``None`` when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size)


def write(
    path: str | os.PathLike[str],
    arrays: Mapping[str, npt.NDArray[Any]],
    meta: Mapping[str, Any],
) -> None:
    """Write ``arrays`` and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    table: dict[str, list[Any]] = {}
    parts: list[tuple[int, npt.NDArray[Any]]] = []
    # the header's size depends on the offsets: lay out assuming a generous header, then check
    body = 0
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        if a.dtype.hasobject:
            raise FingerprintError(f"array {name!r} holds Python objects")
        table[name] = [body, a.dtype.str, list(a.shape)]
        parts.append((body, a))
        body += -(-a.nbytes // _ALIGN) * _ALIGN
    head = json.dumps({"meta": dict(meta), "arrays": table}).encode()
    start = -(-(16 + len(head)) // _ALIGN) * _ALIGN
    for entry in table.values():
        entry[0] += start
    head = json.dumps({"meta": dict(meta), "arrays": table}).encode()
    start2 = -(-(16 + len(head)) // _ALIGN) * _ALIGN
    if start2 != start:  # the shifted offsets grew the header past a page: shift once more
        for entry in table.values():
            entry[0] += start2 - start
        head = json.dumps({"meta": dict(meta), "arrays": table}).encode()
        start = start2
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(head).to_bytes(8, "little") + head)
            f.write(_PAD[: start - 16 - len(head)])
            for _, a in parts:
                f.write(a.reshape(-1).view(np.uint8).data)
                f.write(_PAD[: -a.nbytes % _ALIGN])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_file(path: str | os.PathLike[str]) -> MappedFile:
    """Map the file at ``path`` read-only.

    Raises :class:`FingerprintError` when it is missing, not such a file or truncated.
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size < 16:
                raise FingerprintError(f"{Path(path).name} is not an index file")
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise FingerprintError(f"cannot map {Path(path).name}: {exc}") from exc
    if mm[:8] != MAGIC:
        raise FingerprintError(f"{Path(path).name} is not an index file")
    n = int.from_bytes(mm[8:16], "little")
    try:
        header = json.loads(mm[16 : 16 + n])
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, (offset, dtype, shape) in header["arrays"].items():
            dt = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            if offset + count * dt.itemsize > st.st_size:
                raise FingerprintError(f"{Path(path).name} is truncated")
            if count == 0:
                arrays[name] = np.zeros(shape, dt)
            else:
                arrays[name] = np.frombuffer(mm, dt, count, offset).reshape(shape)
        meta = dict(header["meta"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FingerprintError(f"{Path(path).name} has a corrupt header ({exc})") from exc
    return MappedFile(meta, arrays, (st.st_dev, st.st_ino, st.st_size))
