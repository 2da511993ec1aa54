"""Test data builders: facilities and their service lines, vocabulary terms given by code."""

import itertools

from facilities import vocabulary as vocab
from facilities.models import SCHEDULE_FIELDS, Facility, ServiceLine, Term

_counter = itertools.count(1)

# keyword -> (many-to-many field, vocabulary group)
TERM_FIELDS = {
    keyword: (field, vocab.TERM_FIELD_GROUPS[field])
    for keyword, field in {
        "levels": "levels_of_care",
        "payments": "payment_options",
        "assistance": "payment_assistance",
        "populations": "populations",
        "ages": "age_groups",
        "genders": "genders",
        "languages": "languages",
        "medications": "medications",
        "approaches": "approaches",
        "therapies": "therapies",
        "conditions": "conditions",
        "services": "services",
        "accreditations": "accreditations",
    }.items()
}


def term(group, code):
    return Term.objects.get(group=group, code=code)


def set_terms(line, **terms):
    """Give a line the terms of these keywords (TERM_FIELDS), replacing what it had."""
    for key, codes in terms.items():
        field_name, group = TERM_FIELDS[key]
        getattr(line, field_name).set(Term.objects.filter(group=group, code__in=list(codes or ())))


def add_line(facility, kind="MH", levels=("ORT",), **fields):
    """Another service line of a facility: add_line(f, "MH", levels=["ORT"], payments=["MD"])."""
    terms = {key: fields.pop(key) for key in list(fields) if key in TERM_FIELDS}
    line = ServiceLine.objects.create(facility=facility, kind=kind, **fields)
    set_terms(line, levels=levels, **terms)
    return line


def line_of(facility, kind="SA"):
    return facility.lines.get(kind=kind)


def make_facility(ownership=None, levels=("OIT",), kind="SA", **fields):
    """A published facility in Jackson, MS unless told otherwise, with one service line
    (substance use unless `kind` says otherwise) holding the terms and the schedule.

    make_facility(name="A", ownership="PVTP", payments=["MD", "PI"], populations=["VET"])
    """
    number = next(_counter)
    terms = {key: fields.pop(key) for key in list(fields) if key in TERM_FIELDS}
    schedule = {name: fields.pop(name) for name in list(fields) if name in SCHEDULE_FIELDS}
    values = {
        "name": f"Test Facility {number}",
        "city": "Jackson",
        "state": "MS",
        "zip": "39201",
        "latitude": 32.2988,
        "longitude": -90.1848,
        "status": Facility.Status.PUBLISHED,
    }
    values.update(fields)
    if ownership:
        values["ownership"] = term("ownership", ownership)
    facility = Facility.objects.create(**values)
    add_line(facility, kind, levels=levels, **terms, **schedule)
    return facility


# The Mississippi IOP figures from the state guide (IOP-DOMAIN.md).
MISSISSIPPI = {
    "facility_count": 28,
    "ownership": {"PVTP": 12, "PVTN": 10, "LCCG": 5, "FED": 1},
    "co_occurring_count": 22,
    "payment_options": {"PI": 18, "MD": 12, "MC": 11, "MI": 15},
    "financial_assistance_count": 19,
}


# Who runs each of the 28, and where: the guide's shares.
MISSISSIPPI_OWNERSHIPS = ["PVTP"] * 12 + ["PVTN"] * 10 + ["LCCG"] * 5 + ["VAMC"]
MISSISSIPPI_CITIES = (
    [("Jackson", "39201")] * 16 + [("Oxford", "38655")] * 8 + [("Hattiesburg", "39401")] * 4
)


def mississippi_payments(index):
    """The payments of the index-th of the 28: each code taken by its count of places."""
    return [
        code
        for code, count, offset in (("PI", 18, 0), ("MD", 12, 5), ("MC", 11, 11), ("MI", 15, 17))
        if (index + offset) % 28 < count
    ]


def build_mississippi():
    """28 published IOP listings in MS matching MISSISSIPPI, plus listings that must not count.

    Jackson gets 16 listings, Oxford 8, Hattiesburg 4. Returns the 28 facilities.
    """
    facilities = []
    for index, (ownership, (city, zip_code)) in enumerate(
        zip(MISSISSIPPI_OWNERSHIPS, MISSISSIPPI_CITIES, strict=True)
    ):
        payments = mississippi_payments(index)
        facilities.append(
            make_facility(
                name=f"Mississippi IOP {index:02d}",
                city=city,
                zip=zip_code,
                ownership=ownership,
                co_occurring=index < 22,
                payments=payments,
                assistance=["SS", "PA"] if index % 28 < 19 else [],
                populations=["VET"] if index < 6 else [],
            )
        )
    # Not counted: not IOP, not published, not in Mississippi.
    make_facility(name="MS outpatient only", levels=["ORT"], ownership="PVTP", payments=["PI"])
    make_facility(name="MS draft", ownership="PVTP", status="draft")
    make_facility(name="VA listing", state="VA", city="Richmond", zip="23219", ownership="PVTP")
    return facilities


def make_oxford_iop(**fields):
    """The VA-run IOP in Oxford, MS that the API and fuzzing tests search around."""
    values = {
        "name": "Oxford IOP",
        "city": "Oxford",
        "zip": "38655",
        "latitude": 34.3665,
        "longitude": -89.5192,
        "ownership": "VAMC",
        "payments": ["MD", "MI"],
        "assistance": ["SS"],
        "populations": ["VET"],
        "languages": ["SP"],
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
    }
    values.update(fields)
    return make_facility(**values)
