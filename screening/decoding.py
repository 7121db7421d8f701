"""Encoded spans decoded before screening: base64, hex, percent-encoding and reversed text.

"use the voice of VGF5bG9yIFN3aWZ0" hides a name from every matcher. :func:`decode_spans`
returns the prompt with each span that decodes to readable text replaced by its decoding (or
``None`` when nothing decodes), and the screener screens that reading too, keeping the more
severe decision (its obfuscations then include ``encoded``). A span counts only when its
decoding is valid UTF-8 made of letters, spaces and common punctuation, so ordinary words
("deadbeef" aside) and numbers stay as they are. Reversed text is read back only where the
prompt says so ("(reversed) tfiwS rolyaT", "倒过来读：伦杰周").
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from urllib.parse import unquote

from screening import intent

__all__ = ["decode_spans"]

_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"(?<![0-9A-Za-z])(?:hex\s*[:=]\s*|0x)?((?:[0-9a-fA-F]{2}){3,})(?![0-9A-Za-z])")
_PCT = re.compile(r"(?:%[0-9A-Fa-f]{2}){2,}")
_CLAUSE_END = re.compile(r"[,，。.!！?？;；—\n]")


def _readable(text: str) -> bool:
    if len(text) < 2:
        return False
    letters = 0
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "L":
            letters += 1
        elif not (ch.isspace() or cat[0] in "PN" or ch in "'-"):
            return False
    return letters >= max(2, len(text) // 2)


def _try_b64(tok: str) -> str | None:
    if tok.isalpha() and (tok.islower() or tok.isupper() or tok[1:].islower()):
        return None  # an ordinary word ("Reaction" decodes to four odd characters)
    pad = tok + "=" * (-len(tok) % 4)
    try:
        out = base64.b64decode(pad, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return out if _readable(out) else None


def _try_hex(tok: str) -> str | None:
    if tok.isdigit():
        return None
    try:
        out = bytes.fromhex(tok).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return out if _readable(out) else None


def _try_pct(tok: str) -> str | None:
    try:
        out = unquote(tok, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    return out if _readable(out) else None


def _reversed_reading(text: str) -> str | None:
    m = intent.reverse_cue(text)
    if m is None:
        return None
    # the cue's position in the folded text equals the original's for these scripts
    start = m.end()
    colon = re.search(r"[:：]", text[start : start + 8])
    if colon is not None:  # "倒过来读：伦杰周" — the text follows the colon
        start += colon.end()
    rest = text[start:]
    lead = len(rest) - len(rest.lstrip(" :：)）]】」\"'“”"))
    body = rest[lead:]
    end = _CLAUSE_END.search(body)
    span = body[: end.start()] if end else body
    if not span.strip():
        return None
    head = text[: m.start()].rstrip()
    if head.endswith(("(", "（", "[")):
        head = head[:-1].rstrip()  # "(reversed) tfiwS rolyaT" → "Taylor Swift"
    if colon is None and text[m.start() : start].strip().lower() in ("reversed", "backwards"):
        # an English cue is read as a note, the words that follow as the name
        return f"{head} {span.strip()[::-1]}{body[len(span) :]}"
    return text[: start + lead] + span.strip()[::-1] + body[len(span) :]


def decode_spans(text: str) -> str | None:
    """The prompt with its encoded spans decoded, or ``None`` when none decodes."""
    changed = False

    def sub(rx: re.Pattern[str], fn: object, s: str, group: int = 0) -> str:
        nonlocal changed

        def repl(m: re.Match[str]) -> str:
            nonlocal changed
            out = fn(m.group(group))  # type: ignore[operator]
            if out is None:
                return m.group(0)
            changed = True
            return f" {out} "

        return rx.sub(repl, s)

    out = sub(_PCT, _try_pct, text)
    out = sub(_HEX, _try_hex, out, 1)
    out = sub(_B64, _try_b64, out)
    rev = _reversed_reading(out)
    if rev is not None and rev != out:
        out = rev
        changed = True
    return out if changed else None
