"""HL7 batches: ``[FHS] {BHS {MSH...} BTS} [FTS]`` -> one :class:`Batch` holding its messages.

The charset is read from the first MSH-18 of the batch (FHS/BHS carry none); the delimiters come
from FHS (or BHS) MSH-like fields 1 and 2. BTS-1 / FTS-1 counts are checked and reported as
warnings in ``Batch.issues``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiguillage.errors import Issue
from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.errors import HL7ParseError
from aiguillage.hl7v2.message import Message, Segment
from aiguillage.hl7v2.parser import build_message, decode_input, normalise, read_delimiters, split_segment


@dataclass
class Batch:
    file_header: Segment | None = None
    batch_headers: list[Segment] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    batch_trailers: list[Segment] = field(default_factory=list)
    file_trailer: Segment | None = None
    normalised: str | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def control_id(self) -> str:
        """FHS-11, else BHS-11."""
        for h in (self.file_header, *self.batch_headers):
            if h is not None and h.get(11):
                return h.get(11)
        return ""


def parse_batch(raw: bytes | str, *, strict: bool = False) -> Batch:
    if not raw or not raw.strip():
        raise HL7ParseError("empty batch", E.EMPTY)
    text, charset, codec = decode_input(raw)
    text = text.lstrip("\ufeff\r\n\t ")
    text, kind = normalise(text, strict)
    head = text[:3]
    if head not in ("FHS", "BHS", "MSH"):
        raise HL7ParseError("batch does not start with FHS, BHS or MSH", E.BAD_BATCH, location="FHS")
    lines = [ln for ln in text.split("\r") if ln]
    d = read_delimiters(lines[0], head)
    batch = Batch(normalised=kind)
    current: list[str] | None = None
    in_batch = 0

    def flush() -> None:
        nonlocal current
        if current:
            batch.messages.append(build_message(current, read_delimiters(current[0]), charset, codec, kind))
        current = None

    for i, line in enumerate(lines):
        name = line[:3]
        if name == "MSH":
            flush()
            current = [line]
        elif name in ("FHS", "BHS", "BTS", "FTS"):
            flush()
            seg = split_segment(line, d, codec, i + 1)
            if name == "FHS":
                if i != 0:
                    raise HL7ParseError("FHS must be the first segment", E.BAD_BATCH, location="FHS")
                batch.file_header = seg
            elif name == "BHS":
                batch.batch_headers.append(seg)
                in_batch = len(batch.messages)
            elif name == "BTS":
                batch.batch_trailers.append(seg)
                declared = seg.get(1)
                count = len(batch.messages) - in_batch
                if declared.isdigit() and int(declared) != count:
                    batch.issues.append(Issue("warning", E.BATCH_COUNT,
                                              f"BTS-1 declares {declared} messages, found {count}", "BTS-1"))
            else:
                batch.file_trailer = seg
                declared = seg.get(1)
                if declared.isdigit() and int(declared) != len(batch.batch_headers):
                    batch.issues.append(Issue("warning", E.BATCH_COUNT,
                                              f"FTS-1 declares {declared} batches, found "
                                              f"{len(batch.batch_headers)}", "FTS-1"))
        elif current is None:
            raise HL7ParseError(f"segment {i + 1} outside any message", E.BAD_BATCH, location=name)
        else:
            current.append(line)
    flush()
    return batch


__all__ = ["Batch", "parse_batch"]
