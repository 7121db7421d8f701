"""Every piece of media code the service runs, in one place.

* :mod:`~service.media.probe`: probe and decode uploads of unknown origin, with hard caps.
* :mod:`~service.media.encode`: write what provkit makes (H.264 + AAC MP4, WAV/FLAC tracks,
  JPEG thumbnails), streaming frame by frame.
* :mod:`~service.media.transforms`: platform-style transforms of a file (re-encode, trim,
  letterbox, downscale, strip a stream) for the demo and the robustness tests.

The parts keep their own readers (``watermark.audio_io``, ``provenance.fingerprint.video``):
they cannot import the service.
"""

from service.media.probe import (
    MediaError,
    MediaInfo,
    MediaLimits,
    MediaTooLong,
    OverSyncBudget,
    decode_audio,
    probe,
)

__all__ = [
    "MediaError",
    "MediaInfo",
    "MediaLimits",
    "MediaTooLong",
    "OverSyncBudget",
    "decode_audio",
    "probe",
]
