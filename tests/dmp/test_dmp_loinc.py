from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiguillage.dmp import loinc


@pytest.mark.parametrize(
    "code", ["11490-0", "34874-8", "11488-4", "11502-2", "18748-4", "57828-6", "57832-8", "57833-6"]
)
def test_indicator_codes_pass_the_check_digit(code: str) -> None:
    assert loinc.is_valid(code)


@pytest.mark.parametrize("code", ["34874-7", "11490-1", "57833-8", "1149-0", "abc", "11490"])
def test_wrong_check_digit_or_shape_fails(code: str) -> None:
    assert not loinc.is_valid(code)


def test_ocr_b_for_8_is_repaired_by_the_check_digit() -> None:
    rep = loinc.repair("34874-B")
    assert (rep.code, rep.how) == ("34874-8", "ocr")


def test_damaged_check_character_is_recomputed_from_the_body() -> None:
    # B -> 8 would give 57833-8, which fails the check digit: the body decides (57833-6)
    rep = loinc.repair("57833-B")
    assert (rep.code, rep.how) == ("57833-6", "check-digit recomputed")


def test_ambiguous_wrong_digit_is_not_guessed() -> None:
    # 57833-8 is one digit from both 57833-6 and 57832-8: refuse
    assert loinc.repair("57833-8", frozenset(loinc.KNOWN)).code is None


@given(st.integers(min_value=1, max_value=9_999_999))
def test_any_single_digit_change_of_the_body_breaks_the_check(n: int) -> None:
    body = str(n)
    code = f"{body}-{loinc.check_digit(body)}"
    assert loinc.is_valid(code)
    d = int(body[-1])
    changed = body[:-1] + str((d + 1) % 10)
    assert loinc.check_digit(changed) != loinc.check_digit(body)
