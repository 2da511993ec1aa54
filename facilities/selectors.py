"""Query logic shared by the pages, the API and the exports.

Views ask here for what they render, so a filter, a prefetch or a count
means the same thing everywhere.
"""

from django.core.paginator import Paginator
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils.functional import cached_property

from . import data_version, geo, rows
from . import vocabulary as vocab
from .models import Facility, ServiceLine, Term
from .search.params import DEFAULT_LEVEL_OF_CARE


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


def line_has_any_term(field_name, ids):
    """A condition on a service line: it has one of these terms in this field.
    EXISTS(...) on the field's link table: no joins, no duplicate rows."""
    through = ServiceLine._meta.get_field(field_name).remote_field.through
    return Exists(through.objects.filter(serviceline_id=OuterRef("pk"), term_id__in=ids))


def line_has_any_in_field(field_name):
    """A condition on a service line: it has any term in this field."""
    through = ServiceLine._meta.get_field(field_name).remote_field.through
    return Exists(through.objects.filter(serviceline_id=OuterRef("pk")))


def line_offers_iop():
    """A condition on a service line: it offers intensive outpatient care."""
    ids = term_ids(vocab.LEVEL_OF_CARE, [DEFAULT_LEVEL_OF_CARE])
    return line_has_any_term("levels_of_care", ids)


def has_line(*conditions):
    """A condition on a listing: one of its service lines meets every condition at once
    (IOP and Medicaid in the same program, not IOP in one and Medicaid in the other)."""
    return Exists(ServiceLine.objects.filter(facility_id=OuterRef("pk")).filter(*conditions))


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


def for_detail(queryset):
    """What a facility page or an API detail reads besides its lines (rows.read_models)."""
    return queryset.select_related("ownership", "ownership__parent")


def rows_by_ids_first(filtered, start, stop):
    """filtered[start:stop] as listing rows (rows.LIST_COLUMNS, without terms) in two
    simple queries: the ids in order (and distances), from an index alone where one covers
    the filters and the order; then those listings by primary key, without the filters
    again (PostgreSQL spent a millisecond planning them a second time)."""
    with_distance = "distance_miles" in filtered.query.annotations
    columns = ["pk", "distance_miles"] if with_distance else ["pk"]
    found = list(filtered.values_list(*columns)[start:stop])
    by_id = {
        row["id"]: row
        for row in rows.values_with_distance(
            filtered.model.objects.filter(pk__in=[entry[0] for entry in found])
        )
    }
    listings = []
    for entry in found:
        row = by_id.get(entry[0])
        if row is None:
            continue  # deleted since the first query
        if with_distance:
            row["distance_miles"] = entry[1]
        listings.append(row)
    return listings


class CachedCountPaginator(Paginator):
    """Pages of listing rows (rows.LIST_COLUMNS with their terms) that count a search once
    per data version, not on every page view.

    The COUNT visits every matching listing (95,000 for an unfiltered list, 11,000
    for a large state) while a page reads 20 of them. The count stays exact: any
    change to the listings gives it a new cache key. `search` names the search
    (e.g. its parameters without the page number); without it nothing is cached.
    """

    # From this row on, a page's ids are read first, from an index alone, then its rows:
    # OFFSET otherwise reads every skipped listing from the table (page 200: 3,980).
    deep_page_offset = 1000

    def __init__(self, filtered, per_page, *args, search=None, **kwargs):
        # `filtered`: the search's queryset, kept for pages read ids first.
        self.filtered = filtered
        super().__init__(rows.values_with_distance(filtered), per_page, *args, **kwargs)
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
        return (
            bottom >= self.deep_page_offset or "distance_miles" in self.filtered.query.annotations
        )

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self._ids_first(bottom):
            listings = rows_by_ids_first(self.filtered, bottom, top)
        else:
            listings = list(self.object_list[bottom:top])
        rows.attach_lines(listings, rows.LIST_TERM_FIELDS)
        # _get_page: Paginator's hook for subclasses (Django 5.2) to make the Page.
        return self._get_page(listings, number, self)


def search_key(query, ignore=("page",)):
    """What identifies a search in `query` (a QueryDict) for counting it."""
    return sorted((name, values) for name, values in query.lists() if name not in ignore)


def _rolled_up_counts(term_counts, group):
    """{code: count} from (term_id, count) pairs; child terms also count for their parent."""
    by_id = {term["id"]: term for term in vocabulary().get(group, [])}
    counts = {}
    for term_id, count in term_counts:
        term = by_id.get(term_id)
        if term is None:
            continue
        code = term["parent"] or term["code"]
        counts[code] = counts.get(code, 0) + count
    order = [term["code"] for term in vocabulary().get(group, [])]
    return {code: counts[code] for code in order if counts.get(code)}


def _term_counts(queryset, field_name, group, line_conditions):
    """{code: listings} of the listings in `queryset` whose lines meeting line_conditions
    have the term: a listing counts once, and only where the counted line has it."""
    through = ServiceLine._meta.get_field(field_name).remote_field.through
    lines = ServiceLine.objects.filter(facility_id__in=queryset.values("id"))
    term_counts = (
        through.objects.filter(serviceline_id__in=lines.filter(*line_conditions).values("id"))
        .values_list("term_id")
        .annotate(count=Count("serviceline__facility_id", distinct=True))
        .order_by()
    )
    return _rolled_up_counts(term_counts, group)


def summary(queryset, line_conditions=(), top_cities=10):
    """The figures a state guide writes, computed from the listings in `queryset`.

    Ownership rolls VA, Defense and IHS up into FED; each facility counts once. Payment,
    assistance and populations count where a line meeting `line_conditions` (the search's
    conditions on one line, such as "offers IOP") has them: an IOP paid for yourself beside
    regular outpatient care on Medicaid is not a Medicaid IOP.
    """
    queryset = queryset.order_by()
    assisted = has_line(*line_conditions, line_has_any_in_field("payment_assistance"))
    totals = queryset.annotate(assisted=assisted).aggregate(
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
        "payment_options": _term_counts(
            queryset, "payment_options", vocab.PAYMENT, line_conditions
        ),
        "financial_assistance_count": totals["financial_assistance_count"],
        "populations": _term_counts(queryset, "populations", vocab.POPULATION, line_conditions),
        "cities": [{"city": row["city"], "count": row["count"]} for row in cities],
    }


# Nearby listings are looked for within the first radius, then the next: in a city the
# nearest few are close, and a 100-mile box there holds thousands of listings.
NEARBY_FIRST_RADIUS_MILES = 10


def nearby_iops(facility, count, radius_miles):
    """The closest other published IOP listings within radius_miles, nearest first, as
    listing rows (rows.LIST_COLUMNS with terms): what the search near the listing's point
    with level_of_care=OIT finds, without parsing one."""
    if facility.latitude is None or facility.longitude is None:
        return []
    others = published_facilities().exclude(pk=facility.pk).filter(has_line(line_offers_iop()))
    for radius in sorted({min(NEARBY_FIRST_RADIUS_MILES, radius_miles), radius_miles}):
        nearby = within(others, facility.latitude, facility.longitude, radius)
        nearby = nearby.order_by("distance_miles", "name", "id")
        # Ids first: their distances come from the (latitude, longitude) index alone.
        nearest = rows_by_ids_first(nearby, 0, count)
        if len(nearest) == count:
            break  # anything outside this radius is farther than these
    rows.attach_lines(nearest, rows.LIST_TERM_FIELDS)
    return nearest


# Boxes a search for the nearest listings at any distance grows through (then no box):
# the (latitude, longitude) index keeps each step to the listings inside it, and most
# searches stop at the first step that holds enough.
NEAREST_STEPS_MILES = (100, 400, 1500)


def nearest(queryset, latitude, longitude, count, beyond_miles=0):
    """The `count` listings of `queryset` nearest a point at any distance, nearest first, as
    listing rows (rows.LIST_COLUMNS with distance_miles, without their lines): what a search
    that found nothing within beyond_miles offers instead. Growing boxes on the index, not
    the whole country sorted by distance, unless no box holds `count` of them; each box
    reads ids and distances only, and the rows are read once, by primary key."""
    located = queryset.filter(latitude__isnull=False, longitude__isnull=False)
    steps = [miles for miles in NEAREST_STEPS_MILES if miles > beyond_miles]
    for radius in [*steps, None]:
        if radius is None:  # the last step: every matching listing, by distance
            nearby = located.annotate(distance_miles=geo.distance_expression(latitude, longitude))
        else:
            nearby = within(located, latitude, longitude, radius)
        nearby = nearby.order_by("distance_miles", "name", "id")
        found = list(nearby.values_list("pk", "distance_miles")[:count])
        if len(found) == count:
            break  # anything outside this radius is farther than these
    if not found:
        return []
    by_id = {
        row["id"]: row
        for row in rows.values_with_distance(
            queryset.model.objects.filter(pk__in=[pk for pk, _ in found])
        )
    }
    return [{**by_id[pk], "distance_miles": distance} for pk, distance in found if pk in by_id]
