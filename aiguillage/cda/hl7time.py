"""HL7 v3 TS (point in time) values: ``YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+|-HHMM]``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TS_RE = re.compile(
    r"^(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?)?)?)?(?P<tz>[+-]\d{4})?$"
)


@dataclass(frozen=True)
class HL7Time:
    """A parsed TS: the datetime (aware when a zone was given), its precision and zone flag."""

    value: datetime
    precision: str  # "year" | "month" | "day" | "hour" | "minute" | "second"
    has_timezone: bool


def parse_ts(raw: str) -> HL7Time | None:
    """Parse a TS value; ``None`` when the text is not a valid TS (format or calendar)."""
    m = TS_RE.match(raw.strip())
    if m is None:
        return None
    g = m.groupdict()
    precision = "year"
    for key, name in (("mo", "month"), ("d", "day"), ("h", "hour"), ("mi", "minute"), ("s", "second")):
        if g[key] is not None:
            precision = name
    tzinfo: timezone | None = None
    if g["tz"]:
        sign = -1 if g["tz"][0] == "-" else 1
        hh, mm = int(g["tz"][1:3]), int(g["tz"][3:5])
        if hh > 14 or mm > 59:
            return None
        tzinfo = timezone(sign * timedelta(hours=hh, minutes=mm))
    micro = int((g["f"] or "0").ljust(6, "0")) if g["f"] else 0
    try:
        value = datetime(
            int(g["y"]),
            int(g["mo"] or 1),
            int(g["d"] or 1),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            micro,
            tzinfo=tzinfo,
        )
    except ValueError:
        return None
    return HL7Time(value, precision, tzinfo is not None)


def format_ts(value: datetime) -> str:
    """Format an aware or naive datetime as a TS to the second (``+HHMM`` when aware)."""
    text = value.strftime("%Y%m%d%H%M%S")
    offset = value.utcoffset()
    if offset is not None:
        total = int(offset.total_seconds() // 60)
        sign = "-" if total < 0 else "+"
        total = abs(total)
        text += f"{sign}{total // 60:02d}{total % 60:02d}"
    return text


__all__ = ["TS_RE", "HL7Time", "format_ts", "parse_ts"]
