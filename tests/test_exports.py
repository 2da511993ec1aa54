"""CSV rows shared by the page download and the API."""

import csv
import io

import pytest

from facilities.exports import CSV_COLUMNS, csv_lines
from facilities.models import Facility

from .factories import make_facility

pytestmark = pytest.mark.django_db


def rows():
    text = "".join(csv_lines(Facility.objects.published().order_by("name")))
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_facility_with_codes_joined():
    make_facility(name="A", ownership="VAMC", payments=["MD", "PI"], assistance=["SS"])
    make_facility(name="B")
    exported = rows()
    assert [row["name"] for row in exported] == ["A", "B"]
    assert set(exported[0]) == set(CSV_COLUMNS)
    assert sorted(exported[0]["payment_options"].split(";")) == ["MD", "PI"]
    assert exported[0]["ownership"] == "VAMC"
    assert exported[0]["financial_assistance"] == "true"
    assert exported[1]["financial_assistance"] == "false"


def test_formula_like_text_is_neutralised_for_spreadsheets():
    make_facility(name='=HYPERLINK("http://evil")')
    assert rows()[0]["name"].startswith("'=")
