"""Where the ``AIGC`` label lives in each format, written and read with mutagen.

============  ==========================================================  ======================
format        carrier                                                     read back by
============  ==========================================================  ======================
WAV           RIFF chunk ``AIGC`` (mutagen's RIFF chunk API)               mutagen, any RIFF parser
MP3           ID3v2.4 ``TXXX`` frame, description ``AIGC``                ffprobe tag ``AIGC``
FLAC, Ogg     Vorbis comment ``AIGC``                                     ffprobe tag ``AIGC``
MP4, M4A      iTunes free-form atom ``----:cn.org.tc260:AIGC`` (UTF-8)    ffprobe tag ``AIGC``
============  ==========================================================  ======================

Labels are written before the C2PA manifest is signed, so the manifest's hard binding covers
them; any later rewrite of the file breaks that binding (by design: the label is then stale).
"""

from __future__ import annotations

from pathlib import Path

import mutagen
from mutagen._riff import RiffFile
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TXXX, ID3NoHeaderError
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from provenance.labels.aigc import AigcLabel
from provenance.labels.errors import LabelError

KEY = "AIGC"
MP4_KEY = "----:cn.org.tc260:AIGC"
SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".mp4", ".m4a")


def _kind(path: Path) -> str:
    s = path.suffix.lower()
    if s not in SUFFIXES:
        raise LabelError(f"{s or 'this format'}: AIGC labels go in {', '.join(SUFFIXES)}")
    return {".oga": ".ogg", ".opus": ".ogg", ".m4a": ".mp4"}.get(s, s)


def write_label(path: Path, label: AigcLabel) -> None:
    """Write (or replace) ``label`` in ``path`` in place."""
    text = label.to_json()
    try:
        kind = _kind(path)
        if kind == ".wav":
            with path.open("rb+") as f:
                riff = RiffFile(f)
                if KEY in riff:
                    riff.delete_chunk(KEY)
                riff.insert_chunk(KEY, text.encode("utf-8"))
        elif kind == ".mp3":
            try:
                tags = ID3(path)
            except ID3NoHeaderError:
                tags = ID3()
            tags.delall(f"TXXX:{KEY}")
            tags.add(TXXX(encoding=3, desc=KEY, text=[text]))
            tags.save(path, v2_version=4)
        elif kind == ".flac":
            fl = FLAC(path)
            if fl.tags is None:
                fl.add_tags()
            fl[KEY] = text
            fl.save()
        elif kind == ".ogg":
            og = mutagen.File(path)
            if not isinstance(og, OggVorbis | OggOpus):
                raise LabelError(f"{path.name}: not Ogg Vorbis or Opus")
            og[KEY] = text
            og.save()
        else:
            mp4 = MP4(path)
            if mp4.tags is None:
                mp4.add_tags()
            mp4[MP4_KEY] = [MP4FreeForm(text.encode("utf-8"))]
            mp4.save()
    except mutagen.MutagenError as exc:
        raise LabelError(f"{path.name}: cannot write the label: {exc}") from None


def read_label_text(path: Path) -> str | None:
    """The raw ``AIGC`` text in ``path`` (None when there is none)."""
    try:
        kind = _kind(path)
        if kind == ".wav":
            with path.open("rb") as f:
                riff = RiffFile(f)
                return riff[KEY].read().decode("utf-8", "replace") if KEY in riff else None
        if kind == ".mp3":
            try:
                frames = ID3(path).getall(f"TXXX:{KEY}")
            except ID3NoHeaderError:
                return None
            return str(frames[0].text[0]) if frames else None
        if kind in (".flac", ".ogg"):
            f = mutagen.File(path)
            vals = (f.tags or {}).get(KEY) if f is not None else None
            return str(vals[0]) if vals else None
        mp4 = MP4(path)
        tags = mp4.tags
        vals = tags.get(MP4_KEY) if tags is not None else None
        return bytes(vals[0]).decode("utf-8", "replace") if vals else None
    except mutagen.MutagenError as exc:
        raise LabelError(f"{path.name}: cannot read the file's metadata: {exc}") from None


def read_label(path: Path) -> AigcLabel | None:
    """The ``AIGC`` label in ``path`` (None when there is none; :class:`LabelError` when it is
    there but malformed)."""
    text = read_label_text(path)
    return None if text is None else AigcLabel.from_json(text)
