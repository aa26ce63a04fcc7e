"""The seed's definitions of a "séjour" for the HOP'EN 2 DMP indicators.

| activity | séjour |
|---|---|
| MCO, SMR | one venue, from admission to discharge |
| PSY | admission to discharge, may span several venues (grouped by ``Stay.group_id``) |
| HAD | adult patients hospitalised at least 8 days (shorter ones, or minors, are not séjours) |
| radiotherapy, chemotherapy | a succession of at least 3 sessions within less than 3 months |
| dialysis (MRC) | a 4-month period with at least 3 sessions in the same legal structure |
| emergency passage without admission | never a séjour |

A series (radio/chemo) closes at its last session inside the 3-month window; a dialysis séjour
closes on the last day of its 4-month period (the moment the liaison letter is due, the seed's
"fil rouge"). Consultations (ACE) pass through unchanged: they are the units of P1.04.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .records import Stay, StayKind

HAD_MIN_DAYS = 8
SERIES_MIN_SESSIONS = 3
SERIES_WINDOW_MONTHS = 3
DIALYSIS_MIN_SESSIONS = 3
DIALYSIS_PERIOD_MONTHS = 4
_SERIES = (StayKind.RADIOTHERAPY, StayKind.CHEMOTHERAPY)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, monthrange(year, month)[1]))


@dataclass
class SejourBuild:
    sejours: list[Stay] = field(default_factory=list)
    not_sejours: list[tuple[Stay, str]] = field(default_factory=list)  # venue, reason
    venue_to_sejour: dict[str, str] = field(default_factory=dict)

    def _add(self, s: Stay) -> None:
        self.sejours.append(s)
        for v in s.venue_ids or (s.id,):
            self.venue_to_sejour[v] = s.id


def build_sejours(venues: Iterable[Stay]) -> SejourBuild:
    out = SejourBuild()
    psy: dict[str, list[Stay]] = defaultdict(list)
    series: dict[tuple[str, StayKind], list[Stay]] = defaultdict(list)
    dialysis: dict[tuple[str, str], list[Stay]] = defaultdict(list)
    for v in venues:
        if v.kind is StayKind.EMERGENCY:
            out.not_sejours.append((v, "emergency passage without admission"))
        elif v.kind is StayKind.PSY:
            psy[v.group_id or v.id].append(v)
        elif v.kind in _SERIES:
            series[(v.ipp, v.kind)].append(v)
        elif v.kind is StayKind.DIALYSIS:
            dialysis[(v.ipp, v.legal_entity or "")].append(v)
        elif v.kind is StayKind.HAD:
            days = (v.discharge - v.admission).days if v.admission and v.discharge else None
            if v.adult is False:
                out.not_sejours.append((v, "HAD: minor patient"))
            elif days is not None and days < HAD_MIN_DAYS:
                out.not_sejours.append((v, f"HAD: {days} days < {HAD_MIN_DAYS}"))
            else:
                out._add(v)
        else:
            out._add(v)
    for gid, group in psy.items():
        out._add(_merge(f"PSY-{gid}" if len(group) > 1 else group[0].id, group))
    for group in series.values():
        _windows(out, group, SERIES_WINDOW_MONTHS, SERIES_MIN_SESSIONS, fixed_end=False)
    for group in dialysis.values():
        _windows(out, group, DIALYSIS_PERIOD_MONTHS, DIALYSIS_MIN_SESSIONS, fixed_end=True)
    return out


def _merge(sid: str, group: list[Stay], discharge: date | None = None) -> Stay:
    group = sorted(group, key=lambda s: (s.admission or date.min, s.id))
    first = group[0]
    ends = [s.discharge or s.admission for s in group]
    end = discharge if discharge is not None else (max(e for e in ends if e) if all(ends) else None)
    ins = [s.ins_qualified for s in group if s.ins_qualified is not None]
    return replace(
        first,
        id=sid,
        admission=first.admission,
        discharge=end,
        ins_qualified=(any(ins) if ins else None),
        surgical=any(s.surgical for s in group),
        exclusions=frozenset().union(*(s.exclusions for s in group)),
        discharged_in_month=None,
        venue_ids=tuple(s.id for s in group),
    )


def _windows(out: SejourBuild, sessions: list[Stay], months: int, minimum: int, fixed_end: bool) -> None:
    """Greedy windows from the earliest unassigned session; short ones are reported, not counted."""
    dated = sorted((s for s in sessions if s.admission), key=lambda s: (s.admission or date.min, s.id))
    for s in sessions:
        if not s.admission:
            out.not_sejours.append((s, "session without a date"))
    i = 0
    while i < len(dated):
        start = dated[i].admission or date.min
        limit = add_months(start, months)
        j = i
        while j < len(dated) and (dated[j].admission or date.min) < limit:
            j += 1
        window = dated[i:j]
        if len(window) >= minimum:
            end = limit - timedelta(days=1) if fixed_end else None
            kind = window[0].kind.value
            out._add(_merge(f"{kind}-{window[0].id}", window, discharge=end))
            i = j
        else:
            out.not_sejours.append(
                (dated[i], f"{dated[i].kind.value}: fewer than {minimum} sessions in {months} months")
            )
            i += 1
