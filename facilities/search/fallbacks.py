"""What a results page offers when a search finds nothing: never a dead end.

A search that finds no program shows, at once and without more clicks:

- the nearest programs that meet every other filter, at any distance ("The nearest is
  212 miles away, in Billings, MT"), up to three as result cards, and the search that
  reaches them (a wider radius; their state when they are beyond the largest radius).
  A search in a state (or a ZIP code without `near`) gets the nearest outside it,
  measured from the state's middle (or the ZIP's);
- programs with virtual (telehealth) sessions in the person's state;
- each "search without ..." way out (page.widen_links) with the number it finds;
- when none of those finds anything, the same place with no other filters.

Every link offered is a search that finds at least one program: each is counted, under
the key the results page's paginator counts it with (following it counts nothing again),
and one that finds nothing is left out. The work is bounded: at most MAX_COUNTED_LINKS
widening links are counted, the nearest are looked for in a few growing boxes on the
(latitude, longitude) index (selectors.nearest), and counts and nearest rows are cached
per data version. A page that finds programs asks none of this.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.http import QueryDict

from .. import data_version, geo, rows, selectors
from ..states import state_name
from ..templatetags.finder import miles
from . import page as results_page
from . import params
from .params import BY_NAME

# Result cards of the nearest programs: enough to choose from, few enough to stay short.
MAX_NEAREST = 3
# Each widening link costs a count (once per data version): a search with many chips
# (ten payment options) offers the first ones.
MAX_COUNTED_LINKS = 6
# Parameters that say where a search looks; the rest say what it looks for.
_PLACE = ("near", "radius", "ordering")
_AREA = ("state", "city", "zip", "ordering")


@dataclass
class Link:
    label: str
    url: str
    count: int  # programs the search at `url` finds, never 0


@dataclass
class Offer:
    """What templates/facilities/_no_results.html shows."""

    where: str = ""  # "within 25 miles of 59001 (Absarokee, MT)", "in Montana" or ""
    noun: str = "programs"  # "IOPs" under the default level of care
    nearest_sentence: str = ""
    nearest_cards: list = field(default_factory=list)
    nearest_outside: str = ""  # "Montana" when the nearest are looked for outside a state
    reach: Link | None = None  # the search that finds the nearest
    telehealth: Link | None = None
    widen: list = field(default_factory=list)
    last_resort: Link | None = None

    @property
    def links(self):
        """Every search offered, in the order shown."""
        return [
            link
            for link in (self.reach, self.telehealth, *self.widen, self.last_resort)
            if link is not None
        ]


def count_of(url):
    """How many programs the results page at `url` finds: what its paginator counts, cached
    under the same key (views.facility_list), so following the link counts nothing again."""
    data = QueryDict(urlsplit(url).query)
    filterset, valid = results_page.run(data)
    if not valid:
        return 0
    return data_version.cached("count", filterset.qs.count, "page", selectors.search_key(data))


def _data(query, drop=(), **changes):
    """A copy of `query` without `drop` and the page number, with `changes` (lists for
    several values)."""
    data = query.copy()
    for name in (*drop, "page"):
        data.pop(name, None)
    for name, value in changes.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def _counted(label, data):
    """A Link to the search `data`, or None when it finds nothing."""
    url = results_page.url_with(data)
    count = count_of(url)
    return Link(label, url, count) if count else None


def _nearest_rows(data, latitude, longitude, beyond_miles=0):
    """Listing rows of the search `data` nearest the point at any distance (MAX_NEAREST),
    cached per data version; copies, so adding their lines leaves the cached ones alone."""
    filterset, valid = results_page.run(data)
    if not valid:
        return []

    def compute():
        return selectors.nearest(filterset.qs, latitude, longitude, MAX_NEAREST, beyond_miles)

    found = data_version.cached(
        "nearest",
        compute,
        f"{latitude:.5f},{longitude:.5f}",
        beyond_miles,
        selectors.search_key(data),
    )
    return [dict(row) for row in found]


def distance_words(distance):
    """ "212 miles", "8.5 miles", "1 mile": whole miles once they are many."""
    if distance >= 10:
        return f"{round(distance)} miles"
    return miles(distance)


def _states_words(states):
    return " or ".join(state_name(code) for code in states)


def _reach(place_data, row, label, suffix=""):
    """The search of `place_data` (near a place) wide enough to find `row`: the smallest
    radius step that holds it, or its state when it is beyond the largest radius."""
    steps = [step for step in BY_NAME["radius"].options if step >= row["distance_miles"]]
    if steps:
        data = _data(place_data, radius=f"{steps[0]:g}")
        return _counted(f"{label} within {steps[0]:g} miles{suffix}", data)
    data = _data(place_data, drop=("near", "radius", "ordering", "city", "zip"), state=row["state"])
    return _counted(f"{label} in {state_name(row['state'])}{suffix}", data)


def _cards(found, request, with_distance=True):
    rows.attach_lines(found, rows.LIST_TERM_FIELDS)
    if not with_distance:  # a distance from a state's middle means nothing on a card
        for row in found:
            row.pop("distance_miles", None)
    return results_page.result_cards(found, request)


def _nearest_near_a_place(request, query, filterset, offer):
    place = filterset.place
    others = _data(query, drop=_PLACE)
    found = _nearest_rows(others, place.latitude, place.longitude, filterset.radius_miles)
    if not found:
        return
    first = found[0]
    offer.nearest_sentence = (
        f"The nearest is {distance_words(first['distance_miles'])} away, "
        f"in {first['city']}, {first['state']}."
    )
    offer.reach = _reach(_data(query), first, "Search")
    offer.nearest_cards = _cards(found, request)


def _anchor(filterset):
    """(point, states, words) of a search without `near`: its ZIP code's centre, else the
    middle of its states; point None when it names neither. `words` name the area."""
    cleaned = filterset.form.cleaned_data
    states = list(cleaned.get("state") or [])
    zip_code = (cleaned.get("zip") or "").strip()[:5]
    point = geo.zip_centroid(zip_code) if zip_code else None
    if point is not None:
        return point, states or [geo.zip_place(zip_code)[1]], f"ZIP code {zip_code}"
    centres = [centre for centre in map(geo.state_centre, states) if centre is not None]
    words = _states_words(states)
    if not centres:
        return None, states, words
    latitude = sum(centre[0] for centre in centres) / len(centres)
    longitude = sum(centre[1] for centre in centres) / len(centres)
    return (latitude, longitude), states, words


def _nearest_in_an_area(request, query, filterset, offer):
    """A search in a state or ZIP code: the nearest programs elsewhere that match the rest.
    Returns the person's states (for telehealth)."""
    point, states, words = _anchor(filterset)
    if words:
        offer.where = f"in {words}"
    if point is None:
        return states
    others = _data(query, drop=_AREA)
    found = _nearest_rows(others, *point)
    if not found:
        return states
    first = found[0]
    offer.nearest_outside = words
    offer.nearest_sentence = f"The nearest that matches is in {first['city']}, {first['state']}."
    offer.reach = _counted(
        f"Search in {state_name(first['state'])}", _data(others, state=first["state"])
    )
    offer.nearest_cards = _cards(found, request, with_distance=False)
    return states


def _telehealth(query, states, noun):
    """Programs with virtual sessions in the person's states: with the search's other
    filters, else with its level of care only."""
    if not states:
        return None
    where = _states_words(states)
    with_filters = _data(
        query, drop=(*_PLACE, *_AREA, "q", "telehealth"), state=states, telehealth="true"
    )
    link = _counted(
        f"{noun[0].upper()}{noun[1:]} with virtual (telehealth) sessions in {where}, "
        "with your other filters",
        with_filters,
    )
    if link is not None:
        return link
    plain = _level_only(query, state=states, telehealth="true")
    if plain.urlencode() == with_filters.urlencode():
        return None
    return _counted(f"Every {noun[:-1]} with virtual (telehealth) sessions in {where}", plain)


def _level_only(query, **changes):
    """The search's level of care (or its default) alone, with `changes`."""
    data = QueryDict(mutable=True)
    if "level_of_care" in query:
        data.setlist("level_of_care", query.getlist("level_of_care"))
    for name, value in changes.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def _widen(query, found_chips, filterset):
    links = []
    ways = results_page.widen_links(query, found_chips, filterset, radius_step=False)
    for label, url in ways[:MAX_COUNTED_LINKS]:
        count = count_of(url)
        if count:
            links.append(Link(label, url, count))
    return links


def _last_resort(query, filterset, states, noun):
    """The place alone: the nearest program of the search's level of care (then of any),
    or every one in its states (then in every state)."""
    place = filterset.place
    if place is not None:
        for data, what in (
            (_level_only(query, near=query.get("near", "")), f"Every {noun[:-1]}"),
            (_level_only(query, near=query.get("near", ""), level_of_care=""), "Every program"),
        ):
            found = _nearest_rows(_data(data, drop=("near",)), place.latitude, place.longitude)
            if found:
                return _reach(data, found[0], what, ", with no other filters")
        return None
    candidates = []
    if states:
        candidates.append(
            (_level_only(query, state=states), f"Every {noun[:-1]} in {_states_words(states)}")
        )
    candidates.append((_level_only(query), f"Every {noun[:-1]} in every state"))
    candidates.append((_level_only(query, level_of_care=""), "Every program we list"))
    for data, label in candidates:
        link = _counted(label, data)
        if link is not None:
            return link
    return None


def offer(request, query, filterset, found_chips):
    """What a valid search that found nothing offers instead (an Offer)."""
    noun = "IOPs" if params.uses_default(query, "level_of_care") else "programs"
    result = Offer(noun=noun)
    place = filterset.place
    if place is not None:
        result.where = f"within {filterset.radius_miles:g} miles of {place.label}"
        _nearest_near_a_place(request, query, filterset, result)
        cleaned_states = list(filterset.form.cleaned_data.get("state") or [])
        states = [place.state] if place.state else cleaned_states
    else:
        states = _nearest_in_an_area(request, query, filterset, result)
    result.telehealth = _telehealth(query, states, noun)
    seen = {link.url for link in result.links}
    result.widen = [link for link in _widen(query, found_chips, filterset) if link.url not in seen]
    if not result.links:
        result.last_resort = _last_resort(query, filterset, states, noun)
    return result
