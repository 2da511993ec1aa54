"""A listing as a row of a list: the columns read, and its service lines fetched with the page.

The one home for what a result card, an API list item, a GeoJSON feature and a
CSV row read of a listing, and for the SQL that reads listings' service lines and
their terms (also the importer's, to compare a listing with its source).

A listing's lines stay separate where a page shows them (a facility page, an API
detail); a list shows one flat row per listing: each vocabulary the union over its
lines, the IOP schedule that of the line offering IOP (schedule_line). Searches
match lines one at a time (search/filters.py), so the flat row is a summary, never
what a filter reads.

Lists read plain values(), not models: a page of 50 API items, or a state's 10,000
CSV rows, spent more building model instances and related managers than running
their SQL. Lines and terms come in one UNION ALL per page or chunk.
"""

import functools
from itertools import islice

from django.db import connections, router

from . import data_version
from .models import SCHEDULE_FIELDS, TERM_FIELDS, Facility, ServiceLine, Term

# The listing's own columns every list reads (result card, API item, CSV row, GeoJSON);
# the IOP schedule (SCHEDULE_FIELDS) comes with its lines.
LIST_COLUMNS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate"]
    + ["phone", "intake_phone", "hotline", "website", "co_occurring"]
    + ["verified_at", "updated_at", "source", "ownership__code", "ownership__label"]
)
# The vocabularies a result card and an API list item show.
LIST_TERM_FIELDS = ("levels_of_care", "payment_options", "payment_assistance", "populations")
# A CSV row carries the filtered ones too (as codes).
CSV_TERM_FIELDS = (*LIST_TERM_FIELDS, "age_groups", "languages", "medications")
# A facility page and an API detail show every vocabulary.
DETAIL_TERM_FIELDS = tuple(TERM_FIELDS)

# Listings a chunk of a streamed export reads lines for in one query (1,000 ids stay under
# SQLite's limit of bound parameters).
CHUNK_SIZE = 1000

IOP_CODE = "OIT"

# A listing without lines: no hours, no sessions offered (the fields' defaults).
_NO_SCHEDULE = {name: ServiceLine._meta.get_field(name).get_default() for name in SCHEDULE_FIELDS}
_FLAG_FIELDS = [name for name in SCHEDULE_FIELDS if isinstance(_NO_SCHEDULE[name], bool)]


def values_with_distance(queryset, columns=LIST_COLUMNS):
    """queryset.values(*columns), plus distance_miles when the search is near a place."""
    if "distance_miles" in queryset.query.annotations:
        columns = [*columns, "distance_miles"]
    return queryset.values(*columns)


def read(queryset, limit=None, term_fields=LIST_TERM_FIELDS):
    """The first `limit` listings of `queryset` as dicts of LIST_COLUMNS, with their lines'
    schedule and terms (attach_lines): two queries, whatever the number of listings."""
    listings = list(values_with_distance(queryset)[:limit])
    attach_lines(listings, term_fields)
    return listings


def read_models(queryset, term_fields=DETAIL_TERM_FIELDS):
    """Listings as models (a facility page, an API detail) with their lines attached:
    `facility.service_lines` and `facility.offered` then ask no query (attach_lines)."""
    listings = list(queryset)
    attach_lines(listings, term_fields)
    return listings


def chunks(queryset, term_fields, chunk_size=CHUNK_SIZE):
    """Yield lists of up to chunk_size listing rows (values()), each chunk with its lines
    attached in one query: a whole export streams (server-side cursor on PostgreSQL)."""
    listings = values_with_distance(queryset).iterator(chunk_size=chunk_size)
    while chunk := list(islice(listings, chunk_size)):
        attach_lines(chunk, term_fields)
        yield chunk


class PrefetchedTerms(list):
    """A line's terms of one field, fetched with the page (attach_lines).

    `line.payment_options.all()` returns it: iterate it, test it, len(), count(),
    exists(). Anything else (filter()...) would need a query and raises AttributeError.
    """

    def all(self):
        return self

    def count(self):
        return len(self)

    def exists(self):
        return bool(self)


def terms_of(line, field_name):
    """A line's terms of one field: what attach_lines fetched, else a query.

    Not getattr(line, field_name).all() when fetched: that builds a related manager
    per call, which showed on pages of 50."""
    fetched = getattr(line, "_prefetched_objects_cache", {}).get(field_name)
    return fetched if fetched is not None else getattr(line, field_name).all()


def _link_parts(field_names, quote_name):
    """(table, line column, term column) of each field's link table."""
    parts = []
    for name in field_names:
        field = ServiceLine._meta.get_field(name)
        through = field.remote_field.through._meta
        parts.append(
            (
                quote_name(through.db_table),
                quote_name(through.get_field(field.m2m_field_name()).column),
                quote_name(through.get_field(field.m2m_reverse_field_name()).column),
            )
        )
    return parts


# Bounded: one text per (fields, number of ids), and an export's last chunk can be any size.
@functools.lru_cache(maxsize=64)
def _lines_sql(field_names, id_count, quote_name):
    """The lines of some listings, then their links, in one UNION ALL with the same columns:
    (listing id, line id, kind, *SCHEDULE_FIELDS, field number, term id). A line's own row
    has no field number; a link's row has only the ids, its field number and its term."""
    placeholders = ", ".join(["%s"] * id_count)
    table = quote_name(ServiceLine._meta.db_table)
    columns = ", ".join(quote_name(name) for name in SCHEDULE_FIELDS)
    padding = ", ".join(
        f"CAST(NULL AS {'BOOLEAN' if isinstance(_NO_SCHEDULE[name], bool) else 'INTEGER'})"
        for name in SCHEDULE_FIELDS
    )
    # Names come from the models; the ids are parameters, given once: the listings' lines
    # are read once (the WITH), and each link table is probed by line id from there.
    lines = (
        f"WITH l AS (SELECT facility_id, id, kind, {columns} FROM {table} "  # noqa: S608
        f"WHERE facility_id IN ({placeholders})) "
    )
    parts = ["SELECT *, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER) FROM l"]
    for number, (through, line_column, term_column) in enumerate(
        _link_parts(field_names, quote_name)
    ):
        parts.append(
            f"SELECT l.facility_id, l.id, NULL, {padding}, {number}, t.{term_column} "  # noqa: S608
            f"FROM {through} t JOIN l ON l.id = t.{line_column}"
        )
    return lines + " UNION ALL ".join(parts)


def _read_lines(ids, field_names):
    """{listing id: [line dict, ...]} for these listings: kind, schedule and each field's
    terms in display order, substance use first; one query, from where the router reads
    listings (the replica during a page view, if there is one; the primary inside a
    transaction, so an import sees its own writes).

    Plain SQL: building the same query with the ORM cost more than running it.
    """
    if not ids:
        return {}
    connection = connections[router.db_for_read(Facility)]
    sql = _lines_sql(tuple(field_names), len(ids), connection.ops.quote_name)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        found = cursor.fetchall()
    terms = _terms_by_id()
    if any(term_id not in terms for *_, term_id in found if term_id is not None):
        terms = _terms_by_id(term_id for *_, term_id in found if term_id is not None)
    lines, links = {}, []
    for listing_id, line_id, kind, *rest in found:
        term_id = rest[-1]
        if term_id is None:
            line = {"id": line_id, "facility_id": listing_id, "kind": kind}
            line.update(zip(SCHEDULE_FIELDS, rest, strict=False))
            for name in _FLAG_FIELDS:  # SQLite gives booleans back as 0 and 1 to plain SQL
                line[name] = bool(line[name])
            for name in field_names:
                line[name] = []
            lines[line_id] = line
        else:
            rank, term = terms[term_id]
            links.append((rank, line_id, field_names[rest[-2]], term))
    links.sort(key=lambda link: link[0])  # display order (sort_order, label)
    for _, line_id, field_name, term in links:
        lines[line_id][field_name].append(term)
    by_listing = {}
    for line in sorted(lines.values(), key=lambda line: (line["kind"] != "SA", line["id"])):
        by_listing.setdefault(line["facility_id"], []).append(line)
    return by_listing


def links(line_ids, field_names):
    """[(field name, line id, term id)] of these lines in these fields, in one query
    (the importer compares a listing's lines with its source with it)."""
    field_names = tuple(field_names)
    if not line_ids or not field_names:
        return []
    connection = connections[router.db_for_read(Facility)]
    placeholders = ", ".join(["%s"] * len(line_ids))
    parts = [
        f"SELECT {number}, {line_column}, {term_column} FROM {through} "  # noqa: S608
        f"WHERE {line_column} IN ({placeholders})"
        for number, (through, line_column, term_column) in enumerate(
            _link_parts(field_names, connection.ops.quote_name)
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), list(line_ids) * len(field_names))
        found = cursor.fetchall()
    return [(field_names[number], line_id, term_id) for number, line_id, term_id in found]


def _terms_by_id(wanted=()):
    """{id: (rank, Term)} for every term, rank being its place in sort_order, label order;
    read once per data version (and the wanted ids added since, in one more query)."""

    def load():
        terms = sorted(Term.objects.all(), key=lambda term: (term.sort_order, term.label, term.pk))
        return {term.pk: (rank, term) for rank, term in enumerate(terms)}

    terms = data_version.cached("terms-by-id", load)
    missing = set(wanted) - terms.keys()
    if missing:  # a term added since this request read the data version
        added = sorted(Term.objects.in_bulk(missing).items())
        terms = {**terms, **{pk: (len(terms) + i, term) for i, (pk, term) in enumerate(added)}}
    return terms


def offers_iop(line):
    return any(term.code == IOP_CODE for term in line.get("levels_of_care", ()))


def schedule_line(lines):
    """The line whose IOP schedule a flat row shows: the first that offers IOP, else the
    first line (a listing may describe its schedule before its level of care)."""
    return next((line for line in lines if offers_iop(line)), lines[0] if lines else None)


def union(lines, field_name):
    """A field's terms over all lines, each once, in display order."""
    if len(lines) == 1:
        return lines[0][field_name]
    seen, terms = set(), []
    for term in sorted(
        (term for line in lines for term in line[field_name]),
        key=lambda term: (term.sort_order, term.label, term.pk),
    ):
        if term.pk not in seen:
            seen.add(term.pk)
            terms.append(term)
    return terms


def flat(lines, field_names):
    """A listing's lines as one row's values: each field's union, and the schedule."""
    values = {name: union(lines, name) for name in field_names}
    shown = schedule_line(lines)
    for name in SCHEDULE_FIELDS:
        values[name] = shown[name] if shown else _NO_SCHEDULE[name]
    # Virtual sessions in any line: what the telehealth filter finds.
    values["offers_virtual"] = any(line["offers_virtual"] for line in lines)
    return values


def _line_model(line, field_names):
    model = ServiceLine(
        id=line["id"],
        facility_id=line["facility_id"],
        kind=line["kind"],
        **{name: line[name] for name in SCHEDULE_FIELDS},
    )
    model._state.adding = False
    model._prefetched_objects_cache = {name: PrefetchedTerms(line[name]) for name in field_names}
    return model


def attach_lines(listings, field_names):
    """Give each listing its service lines, in one query (_read_lines).

    Dict rows (values()) get the flat values (flat()) as keys, row["payment_options"],
    row["hours_per_week_min"]..., and the lines as row["lines"]. Models get
    facility.service_lines (ServiceLine models whose terms ask no query: terms_of) and
    facility.offered (the flat values).
    """
    if not listings:
        return
    field_names = tuple(field_names)
    is_row = isinstance(listings[0], dict)
    ids = [row["id"] for row in listings] if is_row else [facility.pk for facility in listings]
    found = _read_lines(ids, field_names)
    for listing in listings:
        lines = found.get(listing["id"] if is_row else listing.pk, [])
        if is_row:
            listing.update(flat(lines, field_names))
            listing["lines"] = lines
        else:
            listing.service_lines = [_line_model(line, field_names) for line in lines]
            for line in listing.service_lines:
                line.facility = listing  # no query for line.facility
            listing.offered = flat(lines, field_names)
