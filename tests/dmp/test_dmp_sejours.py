from __future__ import annotations

from datetime import date

from aiguillage.dmp.records import Exclusion, Stay, StayKind
from aiguillage.dmp.sejours import add_months, build_sejours


def _v(vid: str, kind: StayKind, a: date, b: date | None = None, **kw: object) -> Stay:
    return Stay(vid, kw.pop("ipp", "P1"), kind, a, b or a, **kw)  # type: ignore[arg-type]


def test_had_needs_eight_days_and_an_adult() -> None:
    got = build_sejours(
        [
            _v("h8", StayKind.HAD, date(2025, 3, 1), date(2025, 3, 9)),
            _v("h7", StayKind.HAD, date(2025, 3, 1), date(2025, 3, 8)),
            _v("hm", StayKind.HAD, date(2025, 3, 1), date(2025, 3, 20), adult=False),
        ]
    )
    assert [s.id for s in got.sejours] == ["h8"]
    assert {v.id for v, _ in got.not_sejours} == {"h7", "hm"}


def test_psy_venues_group_into_one_sejour() -> None:
    got = build_sejours(
        [
            _v("a", StayKind.PSY, date(2025, 1, 5), date(2025, 2, 1), group_id="G", exclusions=frozenset()),
            _v(
                "b",
                StayKind.PSY,
                date(2025, 2, 3),
                date(2025, 3, 4),
                group_id="G",
                exclusions=frozenset({Exclusion.DECEASED}),
            ),
        ]
    )
    (s,) = got.sejours
    assert (s.admission, s.discharge, s.venue_ids) == (date(2025, 1, 5), date(2025, 3, 4), ("a", "b"))
    assert s.exclusions == {Exclusion.DECEASED}
    assert got.venue_to_sejour == {"a": s.id, "b": s.id}


def test_series_need_three_sessions_within_three_months() -> None:
    days = [
        date(2025, 1, 10),
        date(2025, 2, 7),
        date(2025, 4, 9),
        date(2025, 4, 20),
        date(2025, 5, 2),
        date(2025, 5, 30),
    ]
    got = build_sejours([_v(f"c{i}", StayKind.CHEMOTHERAPY, d) for i, d in enumerate(days)])
    # window from 10/01 ends before 10/04: c0, c1, c2 (09/04); then c3, c4, c5 from 20/04
    assert [s.venue_ids for s in got.sejours] == [("c0", "c1", "c2"), ("c3", "c4", "c5")]
    assert got.sejours[0].discharge == date(2025, 4, 9)


def test_dialysis_four_month_period_same_legal_entity() -> None:
    venues = [_v(f"d{i}", StayKind.DIALYSIS, date(2025, 1, 2 + i), legal_entity="FJ1") for i in range(3)]
    venues += [_v(f"e{i}", StayKind.DIALYSIS, date(2025, 1, 2 + i), legal_entity=f"FJ{i + 2}") for i in range(3)]
    got = build_sejours(venues)
    (s,) = got.sejours
    assert s.venue_ids == ("d0", "d1", "d2") and s.discharge == date(2025, 5, 1)
    assert len(got.not_sejours) == 3


def test_emergency_is_never_a_sejour_and_add_months_clamps() -> None:
    got = build_sejours([_v("u", StayKind.EMERGENCY, date(2025, 3, 1))])
    assert got.sejours == [] and got.not_sejours[0][1].startswith("emergency")
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
