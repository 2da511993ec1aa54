"""Test data builders: facilities with vocabulary terms given by code."""

import itertools

from facilities.models import Facility, Term

_counter = itertools.count(1)

# keyword -> (many-to-many field, vocabulary group)
TERM_FIELDS = {
    "levels": ("levels_of_care", "level_of_care"),
    "payments": ("payment_options", "payment"),
    "assistance": ("payment_assistance", "assistance"),
    "populations": ("populations", "population"),
    "ages": ("age_groups", "age"),
    "genders": ("genders", "gender"),
    "languages": ("languages", "language"),
    "medications": ("medications", "medication"),
    "approaches": ("approaches", "approach"),
    "therapies": ("therapies", "therapy"),
    "conditions": ("conditions", "condition"),
    "services": ("services", "service"),
    "accreditations": ("accreditations", "accreditation"),
}


def term(group, code):
    return Term.objects.get(group=group, code=code)


def make_facility(ownership=None, levels=("OIT",), **fields):
    """A published facility in Jackson, MS unless told otherwise.

    make_facility(name="A", ownership="PVTP", payments=["MD", "PI"], populations=["VET"])
    """
    number = next(_counter)
    terms = {key: fields.pop(key) for key in list(fields) if key in TERM_FIELDS}
    terms["levels"] = levels
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
    for key, codes in terms.items():
        field_name, group = TERM_FIELDS[key]
        if codes:
            getattr(facility, field_name).set(
                Term.objects.filter(group=group, code__in=list(codes))
            )
    return facility
