"""AI-content labels: the GB 45438-2025 implicit ``AIGC`` label in file metadata, and the
explicit ones (a Morse "AI" audio cue, an on-screen "AI": :mod:`provenance.labels.explicit`).

>>> from pathlib import Path
>>> label = AigcLabel("1", "provkit", "42").sealed(b"label key")   # doctest: +SKIP
>>> write_label(Path("audio.flac"), label)                          # doctest: +SKIP
>>> read_label(Path("audio.flac")).integrity(b"label key")          # doctest: +SKIP
'valid'

Pure: no service imports. Carriers per format: :mod:`provenance.labels.carriers`.
"""

from provenance.labels.aigc import FIELDS, LABEL_MEANING, AigcLabel, Integrity
from provenance.labels.carriers import SUFFIXES, read_label, read_label_text, write_label
from provenance.labels.errors import LabelError

__all__ = [
    "FIELDS",
    "LABEL_MEANING",
    "SUFFIXES",
    "AigcLabel",
    "Integrity",
    "LabelError",
    "read_label",
    "read_label_text",
    "write_label",
]
