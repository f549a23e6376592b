"""The CT error model refuses what IEC 61869-2 does not define: a fraction of the class limit outside 0..1,
a rated current that is not positive (the curve is read at percent of the rated current)."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver.front_end import CtModel


@pytest.mark.parametrize(
    ("rated_current", "fraction", "message"),
    [
        (100.0, 1.5, "fraction must be within 0..1"),
        (100.0, -0.1, "fraction must be within 0..1"),
        (0.0, 1.0, "rated_current must be positive"),
        (-100.0, 1.0, "rated_current must be positive"),
    ],
)
def test_a_ct_model_outside_its_ranges_is_refused(rated_current: float, fraction: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CtModel(rated_current=rated_current, fraction=fraction)


def test_the_edges_are_a_perfect_ct_and_one_at_its_class_limits() -> None:
    assert CtModel(fraction=0.0).ratio_error(1.0) == 0.0  # a CT without error at any current
    assert CtModel(fraction=1.0).ratio_error(100.0) == pytest.approx(-0.005)  # class 0.5 at rated current
