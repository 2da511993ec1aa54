"""CSV rows of facilities, shared by the page's "Download CSV" and the API's CSV format.

Rows are produced lazily in chunks so a state-wide export streams instead of
being built in memory.
"""

import csv

from . import selectors
from .models import facility_url

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


# The listing's own columns a row shows, read as plain values (not models: a state's
# 10,000 rows spent a third of the export building model instances).
CSV_VALUE_FIELDS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate", "phone", "intake_phone"]
    + ["hotline", "website", "co_occurring", "hours_per_week_min", "hours_per_week_max"]
    + ["sessions_per_week", "duration_weeks", "offers_daytime", "offers_evening"]
    + ["offers_weekend", "offers_virtual", "transportation_assistance", "verified_at"]
    + ["updated_at", "ownership__code", "ownership__label"]
)
# Columns that are the listing's field under another name.
_RENAMED = {
    "ownership": "ownership__code",
    "ownership_label": "ownership__label",
    "daytime": "offers_daytime",
    "evening": "offers_evening",
    "weekend": "offers_weekend",
    "virtual": "offers_virtual",
}


_COMPUTED = {"distance_miles", "financial_assistance", "url", "verified_at", "updated_at"}
# Columns copied from the row as they are (under their own name or a _RENAMED one).
_PLAIN_COLUMNS = [
    column for column in CSV_COLUMNS if column not in _COMPUTED and column not in CSV_TERM_FIELDS
]


def facility_row(row, base_url=""):
    """The CSV cells of one listing: `row` from csv_lines (values, terms attached)."""
    codes = {name: ";".join(term.code for term in row[name]) for name in CSV_TERM_FIELDS}
    distance = row.get("distance_miles")
    values = {
        **{column: row[_RENAMED.get(column, column)] for column in _PLAIN_COLUMNS},
        **codes,
        "distance_miles": round(distance, 1) if distance is not None else None,
        "financial_assistance": bool(codes["payment_assistance"]),
        "url": base_url + facility_url(row["slug"]),
        "verified_at": row["verified_at"].isoformat() if row["verified_at"] else "",
        "updated_at": row["updated_at"].isoformat() if row["updated_at"] else "",
    }
    return [_cell(values[column]) for column in CSV_COLUMNS]


def csv_lines(queryset, base_url=""):
    """Yield CSV text lines: the header, then one line per facility, fetched in chunks.

    One query streams the listings (a server-side cursor on PostgreSQL); each chunk's
    terms come in one more query (selectors.chunks_with_terms), not a queryset per row.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = selectors.values_with_distance(queryset, CSV_VALUE_FIELDS)
    for chunk in selectors.chunks_with_terms(rows, CSV_TERM_FIELDS, CHUNK_SIZE):
        yield "".join(writer.writerow(facility_row(row, base_url)) for row in chunk)
