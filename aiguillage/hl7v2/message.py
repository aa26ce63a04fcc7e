"""Parsed ER7 message: segments keep their fields as escaped strings; components, sub-components,
repetitions and escapes are resolved only on access (lazy), which keeps parsing cheap.

Field numbering follows HL7: ``seg.fields[n]`` is field n, and for MSH/FHS/BHS field 1 is the field
separator itself (``fields[1] == "|"``) and field 2 the encoding characters.

Value access (``get``) follows the HAPI "terser" convention: an unspecified repetition, component or
sub-component means the first one, so ``msg.get("PID-5")`` is the family name. A leaf sent as ``""``
reads as :data:`NULL` (a distinct, empty ``str``); an absent leaf reads as ``""``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.errors import HL7ParseError
from aiguillage.hl7v2.escape import NULL, NULL_ER7, Delimiters, escape, unescape

HEADER_SEGMENTS = frozenset({"MSH", "FHS", "BHS"})


class MessageType(NamedTuple):
    code: str  # MSH-9.1, e.g. "ADT"
    trigger: str  # MSH-9.2, e.g. "A01"
    structure: str  # MSH-9.3, e.g. "ADT_A01"


class Location(NamedTuple):
    segment: str
    occurrence: int  # 1-based occurrence of the segment
    field: int
    rep: int
    comp: int
    sub: int


_PATH = re.compile(r"^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$")


@lru_cache(maxsize=1024)
def parse_path(path: str) -> Location:
    """``"PID-3[2].4.1"`` -> Location("PID", 1, 3, 2, 4, 1); ``"OBX[2]-5"`` addresses the 2nd OBX.
    Unspecified parts are 1 (field 0 means the whole segment)."""
    m = _PATH.match(path.strip())
    if m is None:
        raise HL7ParseError(f"invalid HL7 location {path[:40]!r}", E.BAD_PATH)
    seg, occ, fld, rep, comp, sub = m.groups()
    return Location(seg, int(occ or 1), int(fld or 0), int(rep or 1), int(comp or 1), int(sub or 1))


def leaf(value: str, d: Delimiters, codec: str, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
    """Unescaped leaf at (rep, comp, sub) of a raw field value."""
    if not value:
        return ""
    if rep > 1 or d.rs in value:
        parts = value.split(d.rs)
        if rep > len(parts):
            return ""
        value = parts[rep - 1]
    if comp > 1 or d.cs in value:
        parts = value.split(d.cs)
        if comp > len(parts):
            return ""
        value = parts[comp - 1]
    if sub > 1 or d.ss in value:
        parts = value.split(d.ss)
        if sub > len(parts):
            return ""
        value = parts[sub - 1]
    if value == NULL_ER7:
        return NULL
    if d.ec in value:
        return unescape(value, d, codec)
    return value


def split_components(v: str, d: Delimiters, codec: str) -> list[str]:
    """Unescaped components of a raw repetition (first sub-component of each)."""
    out = v.split(d.cs)
    ss, ec = d.ss, d.ec
    for i, c in enumerate(out):
        if c:
            if ss in c:
                c = c.split(ss, 1)[0]
            if c == NULL_ER7:
                c = NULL
            elif ec in c:
                c = unescape(c, d, codec)
            out[i] = c
    return out


class Rep:
    """One repetition of a field (raw, escaped), with leaf access."""

    __slots__ = ("codec", "d", "raw")

    def __init__(self, raw: str, d: Delimiters, codec: str) -> None:
        self.raw = raw
        self.d = d
        self.codec = codec

    def get(self, comp: int = 1, sub: int = 1) -> str:
        return leaf(self.raw, self.d, self.codec, 1, comp, sub)

    def components(self) -> list[str]:
        """Raw (escaped) components."""
        return self.raw.split(self.d.cs)

    def __repr__(self) -> str:
        return f"<Rep {len(self.raw)} chars>"


class Segment:
    __slots__ = ("codec", "d", "fields")

    def __init__(self, fields: list[str], d: Delimiters, codec: str = "utf-8") -> None:
        self.fields = fields
        self.d = d
        self.codec = codec

    @property
    def name(self) -> str:
        return self.fields[0]

    def __len__(self) -> int:
        """Number of fields present (the highest field number)."""
        return len(self.fields) - 1

    def raw(self, n: int) -> str:
        """Field n as written (escaped, all repetitions)."""
        f = self.fields
        return f[n] if n < len(f) else ""

    def get(self, n: int, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
        f = self.fields
        if n >= len(f):
            return ""
        if n <= 2 and f[0] in HEADER_SEGMENTS:
            return f[n]
        return leaf(f[n], self.d, self.codec, rep, comp, sub)

    __getitem__ = get

    def values(self, *ns: int) -> list[str]:
        """First leaf of each field number given (one call instead of many ``get``)."""
        f = self.fields
        d = self.d
        rs, cs, ss, ec = d.rs, d.cs, d.ss, d.ec
        size = len(f)
        out: list[str] = []
        for n in ns:
            v = f[n] if n < size else ""
            if v:
                if rs in v:
                    v = v.split(rs, 1)[0]
                if cs in v:
                    v = v.split(cs, 1)[0]
                if ss in v:
                    v = v.split(ss, 1)[0]
                if v == NULL_ER7:
                    v = NULL
                elif ec in v:
                    v = unescape(v, d, self.codec)
            out.append(v)
        return out

    def comps(self, n: int, rep: int = 1, size: int = 0) -> list[str]:
        """Components of one repetition (first sub-component of each, unescaped), padded to ``size``."""
        v = self.fields[n] if n < len(self.fields) else ""
        d = self.d
        if rep > 1 or d.rs in v:
            reps = v.split(d.rs)
            v = reps[rep - 1] if rep <= len(reps) else ""
        out = split_components(v, d, self.codec)
        if len(out) < size:
            out += [""] * (size - len(out))
        return out

    def is_null(self, n: int, rep: int = 1, comp: int = 1, sub: int = 1) -> bool:
        return self.get(n, rep, comp, sub) is NULL

    def repetitions(self, n: int) -> list[Rep]:
        v = self.raw(n)
        if not v:
            return []
        return [Rep(r, self.d, self.codec) for r in v.split(self.d.rs)]

    def set(
        self, n: int, value: str, rep: int | None = None, comp: int | None = None, sub: int | None = None
    ) -> None:
        """Set a value (plain text, escaped here; :data:`NULL` writes ``""``). With ``rep``/``comp``/
        ``sub`` None the whole level is replaced by the value."""
        if n <= 2 and self.fields[0] in HEADER_SEGMENTS:
            raise HL7ParseError("MSH-1 and MSH-2 cannot be set", E.BAD_PATH, location=f"{self.name}-{n}")
        d = self.d
        text = NULL_ER7 if value is NULL else escape(value, d)
        while len(self.fields) <= n:
            self.fields.append("")
        if rep is None:
            self.fields[n] = text
            return
        reps = self.fields[n].split(d.rs)
        reps += [""] * (rep - len(reps))
        if comp is None:
            reps[rep - 1] = text
        else:
            comps = reps[rep - 1].split(d.cs)
            comps += [""] * (comp - len(comps))
            if sub is None:
                comps[comp - 1] = text
            else:
                subs = comps[comp - 1].split(d.ss)
                subs += [""] * (sub - len(subs))
                subs[sub - 1] = text
                comps[comp - 1] = d.ss.join(subs)
            reps[rep - 1] = d.cs.join(comps)
        self.fields[n] = d.rs.join(reps)

    def encode(self) -> str:
        f = self.fields
        fs = self.d.fs
        if f[0] in HEADER_SEGMENTS:
            return f[0] + fs + fs.join(f[2:])
        return fs.join(f)

    def __repr__(self) -> str:  # no field values: they may be personal data
        return f"<Segment {self.name} fields={len(self)}>"


class Message:
    """One HL7 v2 message. ``normalised`` is None, "CRLF" or "LF" when separators were rewritten."""

    __slots__ = ("_index", "_segments", "charset", "codec", "d", "normalised")

    def __init__(
        self,
        segments: list[Segment],
        d: Delimiters,
        *,
        charset: str | None = None,
        codec: str = "utf-8",
        normalised: str | None = None,
        index: dict[str, list[Segment]] | None = None,
    ) -> None:
        self._segments = segments
        self.d = d
        self.charset = charset
        self.codec = codec
        self.normalised = normalised
        if index is None:
            index = {}
            for s in segments:
                index.setdefault(s.fields[0], []).append(s)
        self._index = index

    # --- segments ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Segment:
        try:
            return self._index[name][0]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Segment]:
        return iter(self._segments)

    def __len__(self) -> int:
        return len(self._segments)

    def segment(self, name: str, occurrence: int = 1) -> Segment | None:
        found = self._index.get(name)
        if not found or occurrence > len(found):
            return None
        return found[occurrence - 1]

    def segments(self, name: str | None = None) -> list[Segment]:
        if name is None:
            return list(self._segments)
        return list(self._index.get(name, ()))

    # --- values -----------------------------------------------------------------------------
    def get(self, path: str) -> str:
        loc = parse_path(path)
        seg = self.segment(loc.segment, loc.occurrence)
        if seg is None or loc.field == 0:
            return ""
        return seg.get(loc.field, loc.rep, loc.comp, loc.sub)

    def set(self, path: str, value: str) -> None:
        """Set the exact level named by the path (``PID-5`` whole field, ``PID-5.2`` a component)."""
        m = _PATH.match(path.strip())
        loc = parse_path(path)
        seg = self.segment(loc.segment, loc.occurrence)
        if seg is None or loc.field == 0 or m is None:
            raise HL7ParseError(f"no such location {path[:40]!r}", E.BAD_PATH, location=path[:40])
        _, _, _, rep, comp, sub = m.groups()
        seg.set(
            loc.field,
            value,
            int(rep) if rep else (1 if comp else None),
            int(comp) if comp else None,
            int(sub) if sub else None,
        )

    @property
    def msh(self) -> Segment:
        return self._segments[0]

    @property
    def message_type(self) -> MessageType:
        m = self._segments[0]
        return MessageType(m.get(9, 1, 1), m.get(9, 1, 2), m.get(9, 1, 3))

    @property
    def control_id(self) -> str:
        return self._segments[0].get(10)

    @property
    def version(self) -> str:
        return self._segments[0].get(12)

    @property
    def processing_id(self) -> str:
        return self._segments[0].get(11)

    @property
    def sending_app(self) -> str:
        return self._segments[0].get(3)

    @property
    def sending_facility(self) -> str:
        return self._segments[0].get(4)

    @property
    def receiving_app(self) -> str:
        return self._segments[0].get(5)

    @property
    def receiving_facility(self) -> str:
        return self._segments[0].get(6)

    # --- output -----------------------------------------------------------------------------
    def encode(self) -> str:
        """ER7 text, segments terminated by ``\\r``."""
        return "".join(s.encode() + "\r" for s in self._segments)

    def to_bytes(self) -> bytes:
        return self.encode().encode(self.codec)

    def __repr__(self) -> str:
        t = self.message_type
        return f"<Message {t.code}^{t.trigger} id={self.control_id!r} segments={len(self._segments)}>"


__all__ = [
    "HEADER_SEGMENTS", "Location", "Message", "MessageType", "Rep", "Segment", "leaf", "parse_path",
    "split_components",
]
