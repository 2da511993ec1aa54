"""State-guide figures computed from listings (selectors.summary)."""

import pytest

from facilities import selectors
from facilities.models import Facility
from facilities.search.filters import FacilityFilterSet

from .factories import MISSISSIPPI, build_mississippi, make_facility

pytestmark = pytest.mark.django_db


def mississippi_iop():
    filterset = FacilityFilterSet(
        {"state": "MS", "level_of_care": "OIT"}, queryset=Facility.objects.published()
    )
    assert filterset.is_valid()
    return filterset.qs


def test_payment_counts_in_the_fixture_follow_the_guide():
    build_mississippi()
    payments = selectors.summary(mississippi_iop())["payment_options"]
    assert {code: payments[code] for code in MISSISSIPPI["payment_options"]} == MISSISSIPPI[
        "payment_options"
    ]


def test_summary_matches_the_mississippi_guide():
    build_mississippi()
    figures = selectors.summary(mississippi_iop())
    for key, expected in MISSISSIPPI.items():
        if key == "payment_options":
            assert {code: figures[key][code] for code in expected} == expected
        else:
            assert figures[key] == expected, key
    assert figures["cities"] == [
        {"city": "Jackson", "count": 16},
        {"city": "Oxford", "count": 8},
        {"city": "Hattiesburg", "count": 4},
    ]
    assert figures["populations"] == {"VET": 6}


def test_federal_family_rolls_up_into_fed_and_each_facility_counts_once():
    make_facility(ownership="VAMC", payments=["MI", "MC"])
    make_facility(ownership="IH", payments=["MI"])
    make_facility(ownership="FED")
    figures = selectors.summary(Facility.objects.published())
    assert figures["ownership"] == {"FED": 3}
    assert figures["payment_options"] == {"MC": 1, "MI": 2}
    assert figures["facility_count"] == 3


def test_summary_of_nothing_is_zeroes():
    figures = selectors.summary(Facility.objects.none())
    assert figures["facility_count"] == 0
    assert figures["ownership"] == {} and figures["cities"] == []
