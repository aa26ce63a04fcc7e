"""ER7 parser: bytes in, :class:`Message` out.

Eager work is limited to: reading MSH-18 from the bytes, decoding, checking separators, splitting
segments on ``\\r`` and fields on the field separator. The encoding characters are read from
MSH-1/MSH-2 of each message, never assumed.

Segment separators: HL7 uses ``\\r``. A message split with ``\\r\\n`` or ``\\n`` is accepted only by an
explicit normalisation recorded in ``Message.normalised`` ("CRLF" or "LF"); ``strict=True`` refuses
it (HL7-0104). Empty lines (e.g. a trailing newline) are dropped.
"""

from __future__ import annotations

from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.charset import decode
from aiguillage.hl7v2.errors import HL7ParseError
from aiguillage.hl7v2.escape import ABSENT, Delimiters
from aiguillage.hl7v2.message import HEADER_SEGMENTS, Message, Segment


def decode_input(raw: bytes | str) -> tuple[str, str | None, str]:
    if isinstance(raw, str):
        return raw, None, "utf-8"
    return decode(raw)


def normalise(text: str, strict: bool) -> tuple[str, str | None]:
    """Return (text with ``\\r`` separators, None | "CRLF" | "LF")."""
    if "\n" not in text:
        return text, None
    kind = "CRLF" if "\r\n" in text else "LF"
    if strict:
        raise HL7ParseError(
            f"segments separated by {kind} instead of CR", E.SEPARATOR, location="MSH"
        )
    text = text.replace("\r\n", "\r")
    if "\n" in text:
        kind = "LF"
        text = text.replace("\n", "\r")
    return text, kind


def read_delimiters(line: str, name: str = "MSH") -> Delimiters:
    """Delimiters from the header line (MSH/FHS/BHS): field separator at [3], then MSH-2."""
    if len(line) < 5:
        raise HL7ParseError(f"{name} segment too short", E.BAD_DELIMITERS, location=f"{name}-1")
    fs = line[3]
    end = line.find(fs, 4)
    enc = line[4:] if end < 0 else line[4:end]
    chars = [fs, *enc]
    if (
        not enc
        or len(enc) > 5
        or len(set(chars)) != len(chars)
        or any(c.isalnum() or c in "\r\n " for c in chars)
    ):
        raise HL7ParseError("unusable encoding characters in MSH-1/MSH-2", E.BAD_DELIMITERS,
                            location=f"{name}-2")
    padded = (enc + ABSENT * 4)[:4]
    return Delimiters(fs, padded[0], padded[1], padded[2], padded[3])


_VALID_IDS: set[str] = set()  # segment ids already checked (bounded cache)


def _check_id(name: str, index: int) -> None:
    if len(name) != 3 or not name.isalnum() or name != name.upper():
        raise HL7ParseError(
            f"segment {index} has an invalid segment id", E.BAD_SEGMENT_ID, location=f"segment {index}"
        )
    if len(_VALID_IDS) < 4096:
        _VALID_IDS.add(name)


def split_segment(line: str, d: Delimiters, codec: str, index: int) -> Segment:
    fields = line.split(d.fs)
    name = fields[0]
    if name not in _VALID_IDS:
        _check_id(name, index)
    if name in HEADER_SEGMENTS:
        fields.insert(1, d.fs)
    return Segment(fields, d, codec)


def build_message(
    lines: list[str], d: Delimiters, charset: str | None, codec: str, normalised: str | None
) -> Message:
    fs = d.fs
    valid = _VALID_IDS
    segs: list[Segment] = []
    index: dict[str, list[Segment]] = {}
    for i, line in enumerate(lines):
        if not line:
            continue
        fields = line.split(fs)
        name = fields[0]
        if name not in valid:
            _check_id(name, i + 1)
        if name in HEADER_SEGMENTS:
            if segs and name == "MSH":
                raise HL7ParseError("a second MSH segment: two messages in one", E.SECOND_MSH,
                                    location="MSH[2]")
            fields.insert(1, fs)
        seg = Segment(fields, d, codec)
        segs.append(seg)
        found = index.get(name)
        if found is None:
            index[name] = [seg]
        else:
            found.append(seg)
    return Message(segs, d, charset=charset, codec=codec, normalised=normalised, index=index)


def parse(raw: bytes | str, *, strict: bool = False) -> Message:
    """Parse one ER7 message. Raises :class:`HL7ParseError` with a stable HL7-01xx code."""
    if not raw or not raw.strip():
        raise HL7ParseError("empty message", E.EMPTY)
    text, charset, codec = decode_input(raw)
    text = text.lstrip("\ufeff\r\n\t ")
    text, kind = normalise(text, strict)
    head = text[:3]
    if head != "MSH":
        if head in ("FHS", "BHS"):
            raise HL7ParseError("batch header found: use parse_batch()", E.BATCH_EXPECTED, location=head)
        raise HL7ParseError("message does not start with MSH", E.NO_MSH, location="MSH")
    d = read_delimiters(text[: text.find("\r")] if "\r" in text else text)
    return build_message(text.split("\r"), d, charset, codec, kind)


__all__ = ["build_message", "decode_input", "normalise", "parse", "read_delimiters", "split_segment"]
