"""CSV rows of facilities, shared by the page's "Download CSV" and the API's CSV format.

Rows are produced lazily in chunks so a state-wide export streams instead of
being built in memory.
"""

import csv

from . import selectors

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

# Listings per query for their terms (13 link tables x 1,000 ids stays under SQLite's limit).
CHUNK_SIZE = 1000


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


# The listing's own columns a row shows: only these are read (a narrow sort, no JSON).
CSV_MODEL_FIELDS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate", "phone", "intake_phone"]
    + ["hotline", "website", "co_occurring", "hours_per_week_min", "hours_per_week_max"]
    + ["sessions_per_week", "duration_weeks", "offers_daytime", "offers_evening"]
    + ["offers_weekend", "offers_virtual", "transportation_assistance", "verified_at"]
    + ["updated_at", "ownership__code", "ownership__label"]
)


def csv_queryset(queryset):
    """The queryset with what the CSV needs (terms come a chunk at a time, csv_lines)."""
    return queryset.select_related("ownership").only(*CSV_MODEL_FIELDS)


def facility_row(facility, base_url=""):
    codes = {name: [t.code for t in selectors.terms_of(facility, name)] for name in CSV_TERM_FIELDS}
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
    """Yield CSV text lines: the header, then one line per facility, fetched in chunks.

    One query streams the listings (a server-side cursor on PostgreSQL); each chunk's
    terms come in one more query (selectors.attach_terms), not a queryset per row.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for chunk in selectors.chunks_with_terms(csv_queryset(queryset), CSV_TERM_FIELDS, CHUNK_SIZE):
        yield "".join(writer.writerow(facility_row(facility, base_url)) for facility in chunk)
