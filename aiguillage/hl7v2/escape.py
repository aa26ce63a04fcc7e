"""ER7 delimiters, escaping and unescaping (HL7 v2.5 section 2.7).

Unescape: \\F\\ \\S\\ \\T\\ \\R\\ \\E\\, \\Xhh..\\ (bytes decoded in the message charset), \\.br\\ -> "\\n";
every other sequence (\\H\\, \\N\\, \\Zxx\\, \\Cxxyy\\, malformed \\X..\\) is kept verbatim.
Escape is the inverse for arbitrary text: delimiters, the escape character, "\\n" (-> \\.br\\),
"\\r" (-> \\X0D\\) and the exact leaf value '""' (which would read as NULL, -> \\X2222\\).
"""

from __future__ import annotations

from typing import NamedTuple

ABSENT = "\x00"  # stands for a delimiter the message does not declare (never splits real text)


class Delimiters(NamedTuple):
    fs: str = "|"
    cs: str = "^"
    rs: str = "~"
    ec: str = "\\"
    ss: str = "&"

    @property
    def encoding_characters(self) -> str:
        """MSH-2 as written (absent trailing characters omitted)."""
        return "".join(c for c in (self.cs, self.rs, self.ec, self.ss) if c != ABSENT)


DEFAULT = Delimiters()


class Null(str):
    """The HL7 null value: a field sent as ``""`` ("delete this value"), distinct from empty."""

    __slots__ = ()

    def __new__(cls) -> Null:
        return super().__new__(cls, "")

    def __repr__(self) -> str:
        return "NULL"


NULL = Null()
NULL_ER7 = '""'


def _sequence(seq: str, d: Delimiters, codec: str) -> str | None:
    if len(seq) == 1:
        c = seq
        if c == "F":
            return d.fs
        if c == "S":
            return d.cs
        if c == "R":
            return d.rs
        if c == "T":
            return d.ss
        if c == "E":
            return d.ec
        return None
    if seq == ".br":
        return "\n"
    if seq[0] == "X" and len(seq) % 2 == 1:
        try:
            return bytes.fromhex(seq[1:]).decode(codec)
        except (ValueError, LookupError):
            return None
    return None


def unescape(text: str, d: Delimiters = DEFAULT, codec: str = "utf-8") -> str:
    e = d.ec
    if e not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        j = text.find(e, i)
        if j < 0:
            out.append(text[i:])
            break
        k = text.find(e, j + 1)
        if k < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        seq = text[j + 1 : k]
        rep = _sequence(seq, d, codec) if seq else None
        if rep is None:
            if not seq:  # lone pair of escape chars: keep the first, rescan from the second
                out.append(e)
                i = k
                continue
            out.append(text[j : k + 1])
        else:
            out.append(rep)
        i = k + 1
    return "".join(out)


def escape(text: str, d: Delimiters = DEFAULT) -> str:
    e = d.ec
    if text == NULL_ER7:
        return f"{e}X2222{e}"
    table = {
        e: f"{e}E{e}",
        d.fs: f"{e}F{e}",
        d.cs: f"{e}S{e}",
        d.rs: f"{e}R{e}",
        d.ss: f"{e}T{e}",
        "\n": f"{e}.br{e}",
        "\r": f"{e}X0D{e}",
    }
    table.pop(ABSENT, None)
    if not any(c in text for c in table):
        return text
    return "".join(table.get(ch, ch) for ch in text)


__all__ = ["ABSENT", "DEFAULT", "NULL", "NULL_ER7", "Delimiters", "Null", "escape", "unescape"]
