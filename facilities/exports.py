"""CSV rows of facilities, shared by the page's "Download CSV" and the API's CSV format.

Rows are listing rows (rows.py) read in chunks, so a state-wide export streams
instead of being built in memory. The API's file carries codes; the page's download,
read by case managers in a spreadsheet, carries each code column's labels beside it.
"""

import csv

from . import rows
from .models import Facility, facility_url
from .search.params import PARAMS

# Many-to-many fields exported as ";"-joined codes.
CSV_TERM_FIELDS = rows.CSV_TERM_FIELDS

CSV_COLUMNS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate", "distance_miles"]
    + ["phone", "intake_phone", "hotline", "website", "ownership", "ownership_label"]
    + ["co_occurring", "financial_assistance"]
    + list(CSV_TERM_FIELDS)
    + ["hours_per_week_min", "hours_per_week_max", "sessions_per_week", "duration_weeks"]
    + ["daytime", "evening", "weekend", "virtual", "transportation_assistance"]
    + ["url", "verified_at", "updated_at", "fictional"]
)
# The page's download: each code column followed by its labels ("Medicaid; Medicare").
LABELLED_CSV_COLUMNS = [
    name
    for column in CSV_COLUMNS
    for name in ((column, f"{column}_labels") if column in CSV_TERM_FIELDS else (column,))
]


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


# Columns that are the listing's field under another name.
_RENAMED = {
    "ownership": "ownership__code",
    "ownership_label": "ownership__label",
    "daytime": "offers_daytime",
    "evening": "offers_evening",
    "weekend": "offers_weekend",
    "virtual": "offers_virtual",
}


_COMPUTED = {
    "distance_miles", "financial_assistance", "url", "verified_at", "updated_at", "fictional",
}  # fmt: skip
# Columns copied from the row as they are (under their own name or a _RENAMED one).
_PLAIN_COLUMNS = [
    column for column in CSV_COLUMNS if column not in _COMPUTED and column not in CSV_TERM_FIELDS
]


def facility_row(row, base_url="", columns=CSV_COLUMNS):
    """The CSV cells of one listing: `row` from csv_lines (values, terms attached)."""
    codes = {name: ";".join(term.code for term in row[name]) for name in CSV_TERM_FIELDS}
    labels = {
        f"{name}_labels": "; ".join(term.label for term in row[name]) for name in CSV_TERM_FIELDS
    }
    distance = row.get("distance_miles")
    values = {
        **{column: row[_RENAMED.get(column, column)] for column in _PLAIN_COLUMNS},
        **codes,
        **labels,
        "distance_miles": round(distance, 1) if distance is not None else None,
        "financial_assistance": bool(codes["payment_assistance"]),
        "url": base_url + facility_url(row["slug"]),
        "verified_at": row["verified_at"].isoformat() if row["verified_at"] else "",
        "updated_at": row["updated_at"].isoformat() if row["updated_at"] else "",
        "fictional": row["source"] in Facility.FICTIONAL_SOURCES,
    }
    return [_cell(values[column]) for column in columns]


def csv_lines(queryset, base_url="", labels=False):
    """Yield CSV text lines: the header, then one line per facility, fetched in chunks.
    `labels`: a labels column after each code column (the page's download).

    One query streams the listings (a server-side cursor on PostgreSQL); each chunk's
    lines and terms come in one more query (rows.chunks), not a queryset per row.
    """
    columns = LABELLED_CSV_COLUMNS if labels else CSV_COLUMNS
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for chunk in rows.chunks(queryset, CSV_TERM_FIELDS):
        yield "".join(writer.writerow(facility_row(row, base_url, columns)) for row in chunk)


def column_notes():
    """{CSV column: the label of the search parameter it answers}, for the API docs: a
    column named as the data is, described in the search's words."""
    return {param.column: param.label for param in PARAMS if param.column in CSV_COLUMNS}
