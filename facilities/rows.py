"""A listing as a row of a list: the columns read, and its terms fetched with the page.

The one home for what a result card, an API list item, a GeoJSON feature and a
CSV row read of a listing, and for the SQL that reads listings' terms from the
link tables (also the importer's, to compare a listing with its source).

Lists read plain values(), not models: a page of 50 API items, or a state's 10,000
CSV rows, spent more building model instances and related managers than running
their SQL. Terms come in one UNION ALL over the link tables per page or chunk.
"""

import functools
from itertools import islice

from django.db import connections, router

from . import data_version
from .models import TERM_FIELDS, Facility, Term

# The listing's own columns every list reads (result card, API item, CSV row, GeoJSON).
LIST_COLUMNS = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["county", "latitude", "longitude", "location_approximate"]
    + ["phone", "intake_phone", "hotline", "website", "co_occurring"]
    + ["hours_per_week_min", "hours_per_week_max", "sessions_per_week"]
    + ["session_length_minutes", "duration_weeks", "offers_daytime", "offers_evening"]
    + ["offers_weekend", "offers_virtual", "transportation_assistance"]
    + ["verified_at", "updated_at", "source", "ownership__code", "ownership__label"]
)
# The vocabularies a result card and an API list item show.
LIST_TERM_FIELDS = ("levels_of_care", "payment_options", "payment_assistance", "populations")
# A CSV row carries the filtered ones too (as codes).
CSV_TERM_FIELDS = (*LIST_TERM_FIELDS, "age_groups", "languages", "medications")
# A facility page and an API detail show every vocabulary.
DETAIL_TERM_FIELDS = tuple(TERM_FIELDS)

# Listings a chunk of a streamed export reads terms for in one query (13 link tables x
# 1,000 ids stays under SQLite's limit of bound parameters).
CHUNK_SIZE = 1000


def values_with_distance(queryset, columns=LIST_COLUMNS):
    """queryset.values(*columns), plus distance_miles when the search is near a place."""
    if "distance_miles" in queryset.query.annotations:
        columns = [*columns, "distance_miles"]
    return queryset.values(*columns)


def read(queryset, limit=None, term_fields=LIST_TERM_FIELDS):
    """The first `limit` listings of `queryset` as dicts of LIST_COLUMNS, with their terms
    under the field names: two queries, whatever the number of listings."""
    listings = list(values_with_distance(queryset)[:limit])
    attach_terms(listings, term_fields)
    return listings


def read_models(queryset, term_fields=DETAIL_TERM_FIELDS):
    """Listings as models (a facility page, an API detail) with these fields' terms attached:
    `facility.payment_options.all()` then asks no query."""
    listings = list(queryset)
    attach_terms(listings, term_fields)
    return listings


def chunks(queryset, term_fields, chunk_size=CHUNK_SIZE):
    """Yield lists of up to chunk_size listing rows (values()), each chunk with its terms
    attached in one query: a whole export streams (server-side cursor on PostgreSQL)."""
    listings = values_with_distance(queryset).iterator(chunk_size=chunk_size)
    while chunk := list(islice(listings, chunk_size)):
        attach_terms(chunk, term_fields)
        yield chunk


class PrefetchedTerms(list):
    """A listing's terms of one field, fetched with the page (attach_terms).

    `facility.payment_options.all()` returns it: iterate it, test it, len(), count(),
    exists(). Anything else (filter()...) would need a query and raises AttributeError.
    """

    def all(self):
        return self

    def count(self):
        return len(self)

    def exists(self):
        return bool(self)


def terms_of(facility, field_name):
    """A listing's terms of one field: what attach_terms fetched, else a query.

    Not getattr(facility, field_name).all() when fetched: that builds a related manager
    per call, which showed on pages of 50."""
    fetched = getattr(facility, "_prefetched_objects_cache", {}).get(field_name)
    return fetched if fetched is not None else getattr(facility, field_name).all()


# Bounded: one text per (fields, number of ids), and an export's last chunk can be any size.
@functools.lru_cache(maxsize=64)
def _links_sql(field_names, id_count, quote_name):
    """One UNION ALL over the fields' link tables: (field number, listing id, term id)."""
    placeholders = ", ".join(["%s"] * id_count)
    parts = []
    for number, name in enumerate(field_names):
        field = Facility._meta.get_field(name)
        through = field.remote_field.through._meta
        table = quote_name(through.db_table)
        listing = quote_name(through.get_field(field.m2m_field_name()).column)
        term = quote_name(through.get_field(field.m2m_reverse_field_name()).column)
        # Names come from the models; the ids are parameters.
        select = f"SELECT {number}, {listing}, {term} FROM {table} "  # noqa: S608
        parts.append(select + f"WHERE {listing} IN ({placeholders})")
    return " UNION ALL ".join(parts)


def links(ids, field_names):
    """[(field name, listing id, term id)] of these listings in these many-to-many fields,
    in one query, from where the router reads listings (the replica during a page view,
    if there is one; the primary inside a transaction, so an import sees its own writes).

    Plain SQL: building the same query with the ORM cost more than running it.
    """
    field_names = tuple(field_names)
    if not ids or not field_names:
        return []
    connection = connections[router.db_for_read(Facility)]
    sql = _links_sql(field_names, len(ids), connection.ops.quote_name)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids) * len(field_names))
        found = cursor.fetchall()
    return [(field_names[number], listing_id, term_id) for number, listing_id, term_id in found]


def _terms_by_id():
    """{id: (rank, Term)} for every term, rank being its place in sort_order, label order;
    read once per data version."""

    def load():
        terms = sorted(Term.objects.all(), key=lambda term: (term.sort_order, term.label, term.pk))
        return {term.pk: (rank, term) for rank, term in enumerate(terms)}

    return data_version.cached("terms-by-id", load)


def terms_by_listing(ids, field_names):
    """{(listing id, field name): [Term, ...]} for these listings and many-to-many fields,
    each list in display order (sort_order, label), in one query over the link tables."""
    found_links = links(ids, field_names)
    terms = _terms_by_id()
    missing = {term_id for _, _, term_id in found_links} - terms.keys()
    if missing:  # a term added since this request read the data version
        added = sorted(Term.objects.in_bulk(missing).items())
        terms = {**terms, **{pk: (len(terms) + i, term) for i, (pk, term) in enumerate(added)}}
    # Links in display order first, so each listing's lists come out ordered.
    found_links.sort(key=lambda link: terms[link[2]][0])
    found = {}
    for field_name, listing_id, term_id in found_links:
        found.setdefault((listing_id, field_name), []).append(terms[term_id][1])
    return found


def attach_terms(listings, field_names):
    """Give each listing its terms for these many-to-many fields, as prefetch_related
    would (ordered by sort_order, label), in one query (terms_by_listing).

    Dict rows (values()) get the lists as keys: row["payment_options"]; models get them
    where prefetch_related puts them: facility.payment_options.all().
    """
    if not listings or not field_names:
        return
    if isinstance(listings[0], dict):
        found = terms_by_listing([row["id"] for row in listings], field_names)
        for row in listings:
            for name in field_names:
                row[name] = found.get((row["id"], name), [])
        return
    found = terms_by_listing([facility.pk for facility in listings], field_names)
    for facility in listings:
        cache = facility.__dict__.setdefault("_prefetched_objects_cache", {})
        for name in field_names:
            cache[name] = PrefetchedTerms(found.get((facility.pk, name), ()))
