"""Optional torch accelerator for the PDQ filter products (``pip install .[accel]``).

PDQ's filter-and-decimate step is two matrix products per frame (see :mod:`.pdq`), the bulk of
the hashing work on large frames. With an accelerator chosen, those products run in torch (on a
CUDA GPU when one is present), and everything after the 64×64 blocks (DCT, median threshold,
quality) stays in numpy, so both paths share their exact definitions.

The choice comes from :func:`set_accelerator`, or else the ``PROVKIT_ACCEL`` environment
variable, read once:

* ``"off"``: numpy only;
* ``"auto"`` (default): torch on a CUDA device when torch is installed and sees one, else numpy;
* ``"torch"``: torch even on the CPU (CUDA when present); an error if torch is missing.

torch is imported only when an accelerator is asked for, so the default install never needs it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.fingerprint.errors import FingerprintError

ACCELERATORS = ("off", "auto", "torch")
#: Smaller batches (pixels in all) stay in numpy: moving them costs more than it saves.
MIN_PIXELS = 1 << 20

_choice: str | None = None
_device: Any = None  # a torch.device, or None for numpy
_resolved = False


def set_accelerator(name: str | None) -> None:
    """Choose the accelerator: ``"off"``, ``"auto"`` or ``"torch"`` (``None``: environment)."""
    global _choice, _device, _resolved
    if name is not None and name not in ACCELERATORS:
        raise FingerprintError(f"unknown accelerator {name!r}; use one of {ACCELERATORS}")
    _choice, _device, _resolved = name, None, False


def _resolve() -> Any:
    global _device, _resolved
    if _resolved:
        return _device
    name = _choice or os.environ.get("PROVKIT_ACCEL", "auto").strip().lower() or "auto"
    if name not in ACCELERATORS:
        raise FingerprintError(f"PROVKIT_ACCEL={name!r} is not one of {ACCELERATORS}")
    device = None
    if name != "off":
        try:
            import torch
        except ImportError:
            if name == "torch":
                raise FingerprintError(
                    "the torch accelerator needs torch: pip install '.[accel]'"
                ) from None
        else:
            if torch.cuda.is_available():
                device = torch.device("cuda")
            elif name == "torch":
                device = torch.device("cpu")
    _device, _resolved = device, True
    return device


def accelerator() -> str:
    """The device the filter products run on: ``"numpy"``, ``"cpu"`` (torch) or ``"cuda"``."""
    device = _resolve()
    return "numpy" if device is None else str(device.type)


def filter_products(
    y: npt.NDArray[np.float32],
    rows: npt.NDArray[np.float32],
    cols: list[npt.NDArray[np.float32]],
) -> list[npt.NDArray[np.float32]] | None:
    """``rows @ y @ c.T`` for each ``c`` in ``cols`` on the accelerator, or ``None`` without one.

    ``y`` is ``(n, h, w)``; ``rows`` is ``(64, h)``; each ``c`` is ``(64, w)``. The shared half
    product ``rows @ y`` is computed once. Batches under :data:`MIN_PIXELS` stay in numpy.
    """
    if y.size < MIN_PIXELS:
        return None
    device = _resolve()
    if device is None:
        return None
    import torch

    with torch.inference_mode():
        ty = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).to(device)
        half = torch.matmul(torch.from_numpy(rows).to(device), ty)
        out = []
        for c in cols:
            tc = torch.from_numpy(np.ascontiguousarray(c)).to(device)
            out.append(torch.matmul(half, tc.T).cpu().numpy().astype(np.float32, copy=False))
    return out


__all__ = ["ACCELERATORS", "accelerator", "filter_products", "set_accelerator"]
