"""CSV rows of facilities, shared by the page's "Download CSV" and the API's CSV format.

Rows are produced lazily in chunks so a state-wide export streams instead of
being built in memory.
"""

import csv

from django.db.models import Prefetch

from .models import Term

# Many-to-many fields exported as ";"-joined codes.
CSV_TERM_FIELDS = (
    "levels_of_care",
    "payment_options",
    "payment_assistance",
    "populations",
    "age_groups",
    "languages",
    "medications",
)

CSV_COLUMNS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate", "distance_miles"]
    + ["phone", "intake_phone", "hotline", "website", "ownership", "ownership_label"]
    + ["co_occurring", "financial_assistance"]
    + list(CSV_TERM_FIELDS)
    + ["hours_per_week_min", "hours_per_week_max", "sessions_per_week", "duration_weeks"]
    + ["daytime", "evening", "weekend", "virtual", "transportation_assistance"]
    + ["url", "verified_at", "updated_at"]
)

CHUNK_SIZE = 2000


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer streaming."""

    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Keep spreadsheets from running a cell as a formula (CSV injection).
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_queryset(queryset):
    """The queryset with what the CSV needs, fetched a chunk at a time."""
    terms = Term.objects.only("id", "code").order_by("sort_order")
    return queryset.select_related("ownership").prefetch_related(
        *(Prefetch(name, queryset=terms) for name in CSV_TERM_FIELDS)
    )


def facility_row(facility, base_url=""):
    codes = {name: [t.code for t in getattr(facility, name).all()] for name in CSV_TERM_FIELDS}
    distance = getattr(facility, "distance_miles", None)
    values = {
        "id": facility.id,
        "slug": facility.slug,
        "name": facility.name,
        "program_name": facility.program_name,
        "street1": facility.street1,
        "street2": facility.street2,
        "city": facility.city,
        "state": facility.state,
        "zip": facility.zip,
        "county": facility.county,
        "latitude": facility.latitude,
        "longitude": facility.longitude,
        "location_approximate": facility.location_approximate,
        "distance_miles": round(distance, 1) if distance is not None else None,
        "phone": facility.phone,
        "intake_phone": facility.intake_phone,
        "hotline": facility.hotline,
        "website": facility.website,
        "ownership": facility.ownership.code if facility.ownership else "",
        "ownership_label": facility.ownership.label if facility.ownership else "",
        "co_occurring": facility.co_occurring,
        "financial_assistance": bool(codes["payment_assistance"]),
        **{name: ";".join(values) for name, values in codes.items()},
        "hours_per_week_min": facility.hours_per_week_min,
        "hours_per_week_max": facility.hours_per_week_max,
        "sessions_per_week": facility.sessions_per_week,
        "duration_weeks": facility.duration_weeks,
        "daytime": facility.offers_daytime,
        "evening": facility.offers_evening,
        "weekend": facility.offers_weekend,
        "virtual": facility.offers_virtual,
        "transportation_assistance": facility.transportation_assistance,
        "url": base_url + facility.get_absolute_url(),
        "verified_at": facility.verified_at.isoformat() if facility.verified_at else "",
        "updated_at": facility.updated_at.isoformat() if facility.updated_at else "",
    }
    return [_cell(values[column]) for column in CSV_COLUMNS]


def csv_lines(queryset, base_url=""):
    """Yield CSV text lines: the header, then one line per facility, fetched in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for facility in csv_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(facility_row(facility, base_url))
