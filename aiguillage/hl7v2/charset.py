"""MSH-18 character sets, read from the raw bytes before decoding.

Policy (documented contract):
- MSH-18 present and known: decode strictly with that codec; invalid bytes -> HL7-0105.
- MSH-18 present and unknown: HL7-0106.
- MSH-18 absent: strict UTF-8 when the bytes are valid UTF-8 (ASCII is a subset), else
  ISO-8859-1 (latin-1, the historical PAM FR default, which decodes any byte). The message
  records ``charset=None`` and the codec actually used.
"""

from __future__ import annotations

from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.errors import HL7ParseError

# HL7 table 0211 values -> Python codecs
CHARSETS: dict[str, str] = {
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "UNICODE UTF-16": "utf-16",
    "UNICODE UTF-32": "utf-32",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/3": "iso8859-3",
    "8859/4": "iso8859-4",
    "8859/5": "iso8859-5",
    "8859/6": "iso8859-6",
    "8859/7": "iso8859-7",
    "8859/8": "iso8859-8",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
}

# codec -> the MSH-18 value we write when we have to name it
DEFAULT_CHARSET_NAME: dict[str, str] = {"utf-8": "UNICODE UTF-8", "latin-1": "8859/1", "ascii": "ASCII"}


def declared_charset(raw: bytes) -> str | None:
    """MSH-18 (first repetition, first component) of the first MSH segment in ``raw``, or None."""
    start = raw.find(b"MSH")
    if start < 0 or len(raw) < start + 8:
        return None
    end = len(raw)
    for sep in (b"\r", b"\n"):
        k = raw.find(sep, start)
        if 0 <= k < end:
            end = k
    line = raw[start:end]
    fs = line[3:4]
    parts = line.split(fs)
    if len(parts) < 18:
        return None
    enc = parts[1]
    value = parts[17]
    if len(enc) > 1:
        value = value.split(enc[1:2])[0]  # repetition separator
    if enc:
        value = value.split(enc[0:1])[0]  # component separator
    text = value.decode("latin-1").strip()
    return text or None


def codec_for(charset: str | None) -> str | None:
    """Python codec for an MSH-18 value; None when the value is unknown."""
    if charset is None:
        return "utf-8"
    return CHARSETS.get(charset.upper().strip())


def decode(raw: bytes) -> tuple[str, str | None, str]:
    """Decode message bytes: returns (text, declared MSH-18 or None, codec used)."""
    charset = declared_charset(raw)
    if charset is None:
        try:
            return raw.decode("utf-8"), None, "utf-8"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), None, "latin-1"
    codec = codec_for(charset)
    if codec is None:
        raise HL7ParseError(f"unsupported character set in MSH-18: {charset[:40]!r}", E.UNKNOWN_CHARSET,
                            location="MSH-18")
    try:
        return raw.decode(codec), charset, codec
    except UnicodeDecodeError as exc:
        raise HL7ParseError(
            f"bytes at offset {exc.start} are not valid {charset}", E.BAD_CHARSET_BYTES, location="MSH-18"
        ) from exc


__all__ = ["CHARSETS", "codec_for", "declared_charset", "decode"]
