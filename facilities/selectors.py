"""Query logic shared by the pages, the API and the exports.

Views ask here for what they render, so a filter, a prefetch or a count
means the same thing everywhere.
"""

import functools
from itertools import islice

from django.core.paginator import Paginator
from django.db import connection, connections, router
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils.functional import cached_property

from . import data_version, geo
from . import vocabulary as vocab
from .models import TERM_FIELDS, Facility, Term

# The many-to-many fields a result card or an API list item shows.
LIST_PREFETCH = ("levels_of_care", "payment_options", "payment_assistance", "populations")
# Everything a facility page or API detail shows: every vocabulary.
DETAIL_PREFETCH = tuple(TERM_FIELDS)
# Big and never shown in a list: the raw import record (audit data).
LIST_DEFERRED = ("source_record",)


def _load_vocabulary():
    groups = {}
    for term in Term.objects.select_related("parent").order_by("group", "sort_order", "label"):
        groups.setdefault(term.group, []).append(
            {
                "id": term.id,
                "code": term.code,
                "label": term.label,
                "description": term.description,
                "parent": term.parent.code if term.parent_id else None,
            }
        )
    return groups


def vocabulary():
    """{group: [{"id", "code", "label", "description", "parent"}...]} for every vocabulary.

    Read on every search to validate codes, so it is cached; any change to a term
    gives it a new key (data_version.py).
    """
    return data_version.cached("vocabulary", _load_vocabulary)


def clear_vocabulary_cache(**kwargs):
    data_version.forget("vocabulary")


def term_choices(group):
    """(code, label) pairs for a vocabulary group, for forms and filter validation."""
    return [(term["code"], term["label"]) for term in vocabulary().get(group, [])]


def term_labels(group):
    return {term["code"]: term["label"] for term in vocabulary().get(group, [])}


def term_ids(group, codes):
    """Ids of the terms with these codes, and of their children (FED finds VA too)."""
    codes = set(codes)
    terms = vocabulary().get(group, [])
    return [term["id"] for term in terms if term["code"] in codes or term["parent"] in codes]


def has_any_term(field_name, ids):
    """EXISTS(...) on a many-to-many field's link table: no joins, no duplicate rows."""
    through = Facility._meta.get_field(field_name).remote_field.through
    return Exists(through.objects.filter(facility_id=OuterRef("pk"), term_id__in=ids))


def has_any_in_field(field_name):
    through = Facility._meta.get_field(field_name).remote_field.through
    return Exists(through.objects.filter(facility_id=OuterRef("pk")))


def within(queryset, latitude, longitude, miles):
    """Listings within `miles` of a point, with their distance as distance_miles.

    The box uses the (latitude, longitude) index; the exact distance is computed by the
    database only for the listings inside it.
    """
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(latitude, longitude, miles)
    return (
        queryset.filter(latitude__range=(min_lat, max_lat), longitude__range=(min_lng, max_lng))
        .annotate(distance_miles=geo.distance_expression(latitude, longitude))
        .filter(distance_miles__lte=miles)
    )


def published_facilities():
    return Facility.objects.published()


def for_list(queryset):
    """What a result card or API list item needs, in a fixed number of queries."""
    return (
        queryset.select_related("ownership")  # its parent is shown on the facility page only
        .defer(*LIST_DEFERRED)
        .with_terms(*LIST_PREFETCH)
    )


# What an API list item shows of the listing itself (api.serializers.FacilityListSerializer).
LIST_VALUES = (
    ["id", "slug", "name", "program_name", "street1", "street2", "city", "state", "zip"]
    + ["latitude", "longitude", "location_approximate", "phone", "intake_phone", "website"]
    + ["co_occurring", "hours_per_week_min", "hours_per_week_max", "sessions_per_week"]
    + ["session_length_minutes", "duration_weeks", "offers_daytime", "offers_evening"]
    + ["offers_weekend", "offers_virtual", "verified_at", "updated_at", "source"]
    + ["ownership__code", "ownership__label"]
)


def values_with_distance(queryset, fields):
    """queryset.values(*fields), plus distance_miles when the search is near a place."""
    if "distance_miles" in queryset.query.annotations:
        fields = [*fields, "distance_miles"]
    return queryset.values(*fields)


def list_values(queryset):
    """What an API list item needs, as plain dicts of LIST_VALUES (and distance_miles with
    `near`) with their terms under the field names (with_terms), in a fixed number of
    queries. Not models: building 50 of them a page cost the API more than its SQL."""
    return values_with_distance(queryset, LIST_VALUES).with_terms(*LIST_PREFETCH)


def for_detail(queryset):
    return queryset.select_related("ownership", "ownership__parent").with_terms(*DETAIL_PREFETCH)


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


def _terms_by_id():
    """{id: (rank, Term)} for every term, rank being its place in sort_order, label order;
    read once per data version."""

    def load():
        terms = sorted(Term.objects.all(), key=lambda term: (term.sort_order, term.label, term.pk))
        return {term.pk: (rank, term) for rank, term in enumerate(terms)}

    return data_version.cached("terms-by-id", load)


# Bounded: one text per (fields, number of ids), and an export's last chunk can be any size.
@functools.lru_cache(maxsize=64)
def _links_sql(field_names, id_count):
    """One UNION ALL over the fields' link tables: (field number, facility id, term id)."""
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * id_count)
    parts = []
    for number, name in enumerate(field_names):
        table = quote(Facility._meta.get_field(name).remote_field.through._meta.db_table)
        # Names come from the models; the ids are parameters.
        select = f"SELECT {number}, {quote('facility_id')}, {quote('term_id')} FROM {table} "  # noqa: S608
        parts.append(select + f"WHERE {quote('facility_id')} IN ({placeholders})")
    return " UNION ALL ".join(parts)


def terms_of(facility, field_name):
    """A listing's terms of one field: what attach_terms fetched, else a query.

    Not getattr(facility, field_name).all() when fetched: that builds a related manager
    per call, which showed on pages of 50."""
    fetched = getattr(facility, "_prefetched_objects_cache", {}).get(field_name)
    return fetched if fetched is not None else getattr(facility, field_name).all()


def terms_by_listing(ids, field_names):
    """{(listing id, field name): [Term, ...]} for these listings and many-to-many fields,
    each list in display order (sort_order, label), in one query over the link tables.

    Plain SQL: building the same query with the ORM cost more than running it.
    """
    field_names = tuple(field_names)
    if not ids or not field_names:
        return {}
    # Where the router reads listings from (the replica during a page view, if there is one).
    with connections[router.db_for_read(Facility)].cursor() as cursor:
        cursor.execute(_links_sql(field_names, len(ids)), list(ids) * len(field_names))
        links = cursor.fetchall()
    terms = _terms_by_id()
    missing = {term_id for _, _, term_id in links} - terms.keys()
    if missing:  # a term added since this request read the data version
        added = sorted(Term.objects.in_bulk(missing).items())
        terms = {**terms, **{pk: (len(terms) + i, term) for i, (pk, term) in enumerate(added)}}
    # Links in display order first, so each listing's lists come out ordered.
    links.sort(key=lambda link: terms[link[2]][0])
    found = {}
    for number, facility_id, term_id in links:
        key = (facility_id, field_names[number])
        if key in found:
            found[key].append(terms[term_id][1])
        else:
            found[key] = [terms[term_id][1]]
    return found


def attach_terms(facilities, field_names):
    """Give each facility its terms for these many-to-many fields, as prefetch_related
    would (ordered by sort_order, label), in one query (terms_by_listing).

    Listings read as dicts (list_values) get the lists as keys: row["payment_options"].
    """
    if not facilities or not field_names:
        return
    if isinstance(facilities[0], dict):
        found = terms_by_listing([row["id"] for row in facilities], field_names)
        for row in facilities:
            for name in field_names:
                row[name] = found.get((row["id"], name), [])
        return
    found = terms_by_listing([facility.pk for facility in facilities], field_names)
    for facility in facilities:
        cache = facility.__dict__.setdefault("_prefetched_objects_cache", {})
        for name in field_names:
            cache[name] = PrefetchedTerms(found.get((facility.pk, name), ()))


def chunks_with_terms(queryset, field_names, chunk_size):
    """Yield lists of up to chunk_size listings, each chunk with its terms attached in one
    query: a whole export streams (server-side cursor on PostgreSQL) without a query per row."""
    rows = queryset.iterator(chunk_size=chunk_size)
    while chunk := list(islice(rows, chunk_size)):
        attach_terms(chunk, field_names)
        yield chunk


def rows_by_ids_first(filtered, start, stop, shape):
    """filtered[start:stop] as shape() makes listings (for_list, list_values), in two
    simple queries: the ids in order (and distances), from an index alone where one covers
    the filters and the order; then those listings by primary key, without the filters
    again (PostgreSQL spent a millisecond planning them a second time)."""
    with_distance = "distance_miles" in filtered.query.annotations
    columns = ["pk", "distance_miles"] if with_distance else ["pk"]
    found = list(filtered.values_list(*columns)[start:stop])
    rows = shape(filtered.model.objects.filter(pk__in=[entry[0] for entry in found]))
    as_dicts = rows._fields is not None  # list_values gives dicts
    by_id = {(row["id"] if as_dicts else row.pk): row for row in rows}
    listings = []
    for entry in found:
        row = by_id.get(entry[0])
        if row is None:
            continue  # deleted since the first query
        if with_distance and as_dicts:
            row["distance_miles"] = entry[1]
        elif with_distance:
            row.distance_miles = entry[1]
        listings.append(row)
    return listings


class CachedCountPaginator(Paginator):
    """A Paginator that counts a search once per data version, not on every page view.

    The COUNT visits every matching listing (95,000 for an unfiltered list, 11,000
    for a large state) while a page reads 20 of them. The count stays exact: any
    change to the listings gives it a new cache key. `search` names the search
    (e.g. its parameters without the page number); without it nothing is cached.
    """

    # From this row on, a page's ids are read first, from an index alone, then its rows:
    # OFFSET otherwise reads every skipped listing from the table (page 200: 3,980).
    deep_page_offset = 1000

    def __init__(self, filtered, per_page, *args, search=None, shape=None, **kwargs):
        # `filtered`: the search's queryset; `shape` makes it what a page shows
        # (for_list, list_values). Kept apart for pages read ids first.
        self.filtered = filtered
        self.shape = shape or (lambda queryset: queryset)
        super().__init__(self.shape(filtered), per_page, *args, **kwargs)
        self.search = search

    @cached_property
    def count(self):
        if self.search is None:
            return super().count
        return data_version.cached("count", self.object_list.count, *self.search)

    def _ids_first(self, bottom):
        """Deep pages, and near searches: a near search sorts every listing in its box by
        distance, and the ids and coordinates of those are in an index
        (facility_published_lat_lng) while their rows are scattered over the table."""
        if not hasattr(self.filtered, "values_list"):
            return False
        return (
            bottom >= self.deep_page_offset or "distance_miles" in self.filtered.query.annotations
        )

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self._ids_first(bottom):
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        listings = rows_by_ids_first(self.filtered, bottom, top, self.shape)
        return self._get_page(listings, number, self)


def search_key(query, ignore=("page",)):
    """What identifies a search in `query` (a QueryDict) for counting it."""
    return sorted((name, values) for name, values in query.lists() if name not in ignore)


def _rolled_up_counts(rows, group):
    """{code: count} from (term_id, count) rows; child terms also count for their parent."""
    by_id = {term["id"]: term for term in vocabulary().get(group, [])}
    counts = {}
    for term_id, count in rows:
        term = by_id.get(term_id)
        if term is None:
            continue
        code = term["parent"] or term["code"]
        counts[code] = counts.get(code, 0) + count
    order = [term["code"] for term in vocabulary().get(group, [])]
    return {code: counts[code] for code in order if counts.get(code)}


def _term_counts(queryset, field_name, group):
    through = Facility._meta.get_field(field_name).remote_field.through
    rows = (
        through.objects.filter(facility_id__in=queryset.values("id"))
        .values_list("term_id")
        .annotate(count=Count("facility_id", distinct=True))
        .order_by()
    )
    return _rolled_up_counts(rows, group)


def summary(queryset, top_cities=10):
    """The figures a state guide writes, computed from the listings in `queryset`.

    Ownership rolls VA, Defense and IHS up into FED; each facility counts once.
    """
    queryset = queryset.order_by()
    totals = queryset.annotate(assisted=has_any_in_field("payment_assistance")).aggregate(
        facility_count=Count("id"),
        co_occurring_count=Count("id", filter=Q(co_occurring=True)),
        financial_assistance_count=Count("id", filter=Q(assisted=True)),
    )
    ownership_rows = (
        queryset.filter(ownership__isnull=False)
        .values_list("ownership_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    cities = (
        queryset.values("city_key")
        .annotate(count=Count("id"), city=Min("city"))
        .order_by("-count", "city_key")[:top_cities]
    )
    return {
        "facility_count": totals["facility_count"],
        "ownership": _rolled_up_counts(ownership_rows, vocab.OWNERSHIP),
        "co_occurring_count": totals["co_occurring_count"],
        "payment_options": _term_counts(queryset, "payment_options", vocab.PAYMENT),
        "financial_assistance_count": totals["financial_assistance_count"],
        "populations": _term_counts(queryset, "populations", vocab.POPULATION),
        "cities": [{"city": row["city"], "count": row["count"]} for row in cities],
    }
