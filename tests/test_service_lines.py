"""One place, two programs: a search's conditions are met by one service line together.

The example of issue 12: a place whose substance use line offers IOP paid for yourself
and whose mental health line offers regular outpatient care on Medicaid is not a
Medicaid IOP, on the results page, in the API, in the CSV and in the state figures;
each half alone finds it, once. And the Mississippi guide's figures come out of a
FindTreatment.gov file whose places carry MH twins with other payments.
"""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities import selectors
from facilities.models import Facility
from facilities.search.filters import FacilityFilterSet

from .factories import (
    MISSISSIPPI,
    MISSISSIPPI_CITIES,
    MISSISSIPPI_OWNERSHIPS,
    add_line,
    make_facility,
    mississippi_payments,
)
from .findtreatment_support import run_import, write_page

pytestmark = pytest.mark.django_db

HALVES = "level_of_care=OIT&payment=MD"


@pytest.fixture
def two_programs():
    """SA: IOP, self-pay. MH: regular outpatient, Medicaid. And a real Medicaid IOP."""
    place = make_facility(name="Two Programs Clinic", levels=["OIT"], payments=["SF"])
    add_line(place, "MH", levels=["ORT"], payments=["MD"], populations=["VET"])
    medicaid_iop = make_facility(name="Medicaid IOP", levels=["OIT"], payments=["MD"])
    return place, medicaid_iop


def page_names(client, query):
    # follow: the page's address drops level_of_care=OIT, its default (search/page.py).
    response = client.get(f"/facilities/?{query}", follow=True)
    assert response.status_code == 200
    return [row["name"] for row in response.context["page"].object_list]


def api_names(client, query):
    response = client.get(f"/api/v1/facilities/?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [item["name"] for item in body["results"]]


def csv_names(client, query):
    response = client.get(f"/api/v1/facilities/?{query}&format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return [row["name"] for row in csv.DictReader(io.StringIO(text))]


@pytest.mark.parametrize("names", [page_names, api_names, csv_names])
def test_iop_and_medicaid_must_be_the_same_program(client, two_programs, names):
    assert names(client, HALVES) == ["Medicaid IOP"]
    # Each half alone finds the place, once.
    assert names(client, "level_of_care=OIT&payment=SF") == ["Two Programs Clinic"]
    assert names(client, "level_of_care=ORT&payment=MD") == ["Two Programs Clinic"]
    # (level_of_care= : every level of care, also on the results page, which means IOP by default)
    assert sorted(names(client, "level_of_care=&payment=MD")) == [
        "Medicaid IOP",
        "Two Programs Clinic",
    ]
    assert sorted(names(client, "level_of_care=OIT")) == ["Medicaid IOP", "Two Programs Clinic"]
    # Every line condition goes to the same line: veterans are served by the MH line only.
    assert names(client, "level_of_care=OIT&population=VET") == []
    assert names(client, "level_of_care=ORT&population=VET&payment=MD") == ["Two Programs Clinic"]


def test_place_facts_combine_with_either_line(client, two_programs):
    place, _ = two_programs
    Facility.objects.filter(pk=place.pk).update(co_occurring=True, state="MS")
    # co_occurring and state are the place's: they hold whichever line meets the rest.
    assert api_names(client, "co_occurring=true&payment=MD&state=MS") == ["Two Programs Clinic"]
    assert api_names(client, "co_occurring=true&level_of_care=OIT") == ["Two Programs Clinic"]


def test_the_place_is_counted_once_and_only_where_the_iop_line_takes_the_payment(
    client, two_programs
):
    figures = client.get("/api/v1/states/MS/summary/?level_of_care=OIT").json()
    assert figures["facility_count"] == 2
    assert figures["payment_options"] == {"MD": 1, "SF": 1}  # not MD: 2
    assert figures["populations"] == {}  # veterans are the outpatient line's
    every_level = client.get("/api/v1/states/MS/summary/").json()
    assert every_level["facility_count"] == 2
    assert every_level["payment_options"] == {"MD": 2, "SF": 1}
    state_page = client.get("/states/ms/").context["figures"]
    assert state_page["facility_count"] == 2
    assert state_page["payment_options"] == {"MD": 1, "SF": 1}


def test_list_items_stay_flat_the_union_over_lines(client, two_programs):
    items = client.get("/api/v1/facilities/?q=Two").json()["results"]
    (item,) = items
    assert item["levels_of_care"] == ["OIT", "ORT"]
    assert item["payment_options"] == ["MD", "SF"]
    assert item["populations"] == ["VET"]


def test_a_schedule_filter_is_met_by_the_iop_line():
    place = make_facility(name="Evening IOP", levels=["OIT"], offers_evening=True)
    add_line(place, "MH", levels=["ORT"], payments=["MD"], offers_evening=False)
    for query, expected in [
        ({"evening": "true", "level_of_care": "OIT"}, ["Evening IOP"]),
        ({"evening": "true", "payment": "MD"}, []),  # the Medicaid line has no evenings
        ({"evening": "false", "payment": "MD"}, ["Evening IOP"]),
    ]:
        filterset = FacilityFilterSet(query, queryset=Facility.objects.published())
        assert filterset.is_valid()
        assert [f.name for f in filterset.qs] == expected, query


def test_list_page_query_count_does_not_grow_with_lines(client):
    make_facility(name="One line", payments=["MD"])
    client.get("/facilities/?payment=MD")  # warm the per-version caches
    with CaptureQueriesContext(connection) as one:
        client.get("/facilities/?payment=MD&page=1")
    for number in range(12):
        place = make_facility(name=f"Two lines {number}", payments=["MD"])
        add_line(place, "MH", levels=["ORT", "OIT"], payments=["MD", "MC"])
    client.get("/facilities/?payment=MD")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/facilities/?payment=MD&page=1")
    assert len(response.context["page"].object_list) == 13
    assert len(many) == len(one), [query["sql"] for query in many]


# --- The Mississippi guide, from a FindTreatment.gov file with MH twins -------------------

OWNERSHIP_LABELS = {
    "PVTP": "Private for-profit organization",
    "PVTN": "Private non-profit organization",
    "LCCG": "Regional/district or county, local or municipal government",
    "VAMC": "Department of Veterans Affairs",
}
PAYMENT_LABELS = {
    "PI": "Private health insurance",
    "MD": "Medicaid",
    "MC": "Medicare",
    "MI": "Military insurance (e.g., TRICARE)",
    "SF": "Cash or self-payment",
}
CO_OCCURRING = "Persons with co-occurring mental and substance use disorders"
SLIDING_FEE = "Sliding fee scale (fee is based on income and other factors)"


def _row(number, name, city, zip_code, kind, ownership, setting, payments, extra=(), street=None):
    services = [
        {"f1": "Type of Care", "f2": "TC", "f3": "Substance use treatment"
         if kind == "SA" else "Mental health treatment"},
        {"f1": "Service Settings", "f2": "SET", "f3": setting},
        {"f1": "Facility Operation", "f2": "FOP", "f3": OWNERSHIP_LABELS[ownership]},
        {"f1": "Payment", "f2": "PAY", "f3": "; ".join(PAYMENT_LABELS[p] for p in payments)},
        *extra,
    ]  # fmt: skip
    return {
        "_irow": number, "frid": f"ms-{kind.lower()}-{number}", "name1": name, "name2": "",
        "street1": street or f"{100 + number} Main Street", "street2": "", "city": city,
        "state": "MS", "zip": zip_code, "phone": f"601-555-{number:04d}", "intake1": None,
        "hotline1": None, "website": "", "latitude": None, "longitude": None, "miles": None,
        "typeFacility": kind, "services": services,
    }  # fmt: skip


def mississippi_rows():
    """28 IOP places built to the guide's figures, plus twins and places that must not count.

    Places 0-7 have an MH twin offering regular outpatient care that takes every insurance,
    with a sliding fee: counting the union would give 28 places accepting Medicaid (and
    more with assistance). Place 27 (the VA) has its IOP on its MH row; its SA row is
    regular outpatient care with other payments.
    """
    rows, number = [], 0
    for index, (ownership, (city, zip_code)) in enumerate(
        zip(MISSISSIPPI_OWNERSHIPS, MISSISSIPPI_CITIES, strict=True)
    ):
        payments = mississippi_payments(index) or ["SF"]
        extra = []
        if index < 22:
            extra.append({"f1": "Special Programs", "f2": "SG", "f3": CO_OCCURRING})
        if index < 19:
            extra.append({"f1": "Payment Assistance", "f2": "PYAS", "f3": SLIDING_FEE})
        name = f"Mississippi Place {index:02d}"
        iop_kind = "MH" if index == 27 else "SA"
        number += 1
        street = f"{100 + index} Main Street"
        rows.append(_row(number, name, city, zip_code, iop_kind, ownership,
                         "Intensive outpatient treatment", payments, extra, street))  # fmt: skip
        if index < 8 or index == 27:
            other = "SA" if iop_kind == "MH" else "MH"
            number += 1
            twin_extra = [{"f1": "Payment Assistance", "f2": "PYAS", "f3": SLIDING_FEE}]
            rows.append(_row(number, name, city.upper(), zip_code, other, ownership,
                             "Regular outpatient treatment", list(PAYMENT_LABELS),
                             twin_extra, street.replace("Street", "St.")))  # fmt: skip
    # Not counted: no IOP in Mississippi, or not in Mississippi.
    number += 1
    rows.append(_row(number, "MS Outpatient Only", "Jackson", "39201", "MH", "PVTP",
                     "Regular outpatient treatment", ["MD", "PI"]))  # fmt: skip
    number += 1
    memphis = _row(number, "Memphis IOP", "Memphis", "38103", "SA", "PVTP",
                   "Intensive outpatient treatment", ["MD"])  # fmt: skip
    memphis["state"] = "TN"
    rows.append(memphis)
    return rows


def test_mississippi_figures_come_out_of_a_file_with_mh_twins(client, tmp_path):
    rows = mississippi_rows()
    assert sum(row["typeFacility"] == "MH" for row in rows) == 10  # the twins are there
    status, out, err = run_import(write_page(tmp_path / "ms.json", rows), "--publish")
    assert status == 0, err
    assert "created 30" in out and "rejected 0" in out
    places = Facility.objects.filter(state="MS")
    assert places.count() == 29  # 28 IOP places and one outpatient-only place
    assert sum(place.lines.count() for place in places) == 38  # 9 places with twins

    figures = client.get("/api/v1/states/MS/summary/?level_of_care=OIT").json()
    for key, expected in MISSISSIPPI.items():
        if key == "payment_options":
            assert {code: figures[key].get(code) for code in expected} == expected
        else:
            assert figures[key] == expected, key
    state_page = client.get("/states/ms/").context["figures"]
    assert state_page["facility_count"] == 28
    assert {code: state_page["payment_options"].get(code) for code in ("MD", "PI")} == {
        "MD": 12,
        "PI": 18,
    }
    assert state_page["financial_assistance_count"] == 19
    # What a union of the rows would have said: every place with a twin takes Medicaid.
    union = selectors.summary(selectors.published_facilities().filter(state="MS"))
    assert union["payment_options"]["MD"] > MISSISSIPPI["payment_options"]["MD"]


def test_the_mississippi_file_round_trips_through_the_export(tmp_path):
    rows = mississippi_rows()
    run_import(write_page(tmp_path / "ms.json", rows), "--publish")
    from facilities.importers.findtreatment import export_page

    exported = export_page(Facility.objects.filter(state="MS"))
    kinds = sorted(row["typeFacility"] for row in exported["rows"])
    assert kinds.count("MH") == 10 and kinds.count("SA") == 28
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    status, out, _ = run_import(path)
    assert status == 0 and "unchanged 29" in out
