"""What the public search pages add on top of the FilterSet.

- `interpret_place`: the home page's single box ("Jackson, MS", "Jackson", "39201",
  "Mississippi") turned into a results URL, a choice of places, or an error.
- `with_default_scope`: the results page shows IOPs unless the request says otherwise.
- `active_filters`: the chips ("Payment: Medicaid  x"), each with the link that drops it.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from . import geo, selectors
from . import vocabulary as vocab
from .filters import DEFAULT_RADIUS_MILES, ORDERING_CHOICES
from .states import STATE_LOOKUP, STATES, state_name
from .text import normalize_city

# The results page shows intensive outpatient programs unless level_of_care is given;
# an empty level_of_care= means "every level of care".
DEFAULT_LEVEL_OF_CARE = "OIT"

_ZIP = re.compile(r"^\d{5}$")
MAX_PLACE_LENGTH = 100


def results_url(params, every_level=False):
    """/facilities/?... from a dict of (possibly list) values; empty values dropped.

    every_level=True adds level_of_care= (no default IOP scope).
    """
    pairs = [
        (key, value)
        for key, values in params.items()
        for value in (values if isinstance(values, list | tuple) else [values])
        if value not in (None, "")
    ]
    if every_level:
        pairs.append(("level_of_care", ""))
    query = urlencode(pairs)
    url = reverse("facilities:list")
    return f"{url}?{query}" if query else url


@dataclass
class PlaceAnswer:
    """The result of reading the home page's box: go to `url`, or pick one of `choices`."""

    url: str = ""
    error: str = ""
    # True when the place exists in several states: a question, not a mistake.
    ambiguous: bool = False
    # [(label, url)]: close matches or the states that have this city.
    choices: list = field(default_factory=list)


def _cities_with_listings(city_key):
    """States where a published listing is in this city, most listings first."""
    from django.db.models import Count

    rows = (
        selectors.published_facilities()
        .filter(city_key=city_key)
        .values("state")
        .annotate(count=Count("id"))
        .order_by("-count", "state")
    )
    return [row["state"] for row in rows]


def _city_url(city, state, extra):
    """Search near the city; a town the ZIP table does not know is matched by name instead."""
    if geo.city_point(city, state) is None:
        return results_url({"city": city, "state": state, **extra})
    return results_url({"near": f"{city}, {state}", **extra})


def interpret_place(text, extra=None):
    """Read what someone typed in the home page's box.

    A state -> ?state=XX; a ZIP or a city -> ?near=...; "Jackson" alone -> the one
    state where we list a program in Jackson, or a choice of states; anything else
    -> an error with close matches. `extra` (e.g. payment codes) is kept in every URL.
    """
    extra = extra or {}
    text = " ".join((text or "").split())
    if not text:
        return PlaceAnswer(url=results_url(extra))
    if len(text) > MAX_PLACE_LENGTH:
        return PlaceAnswer(error="That is too long. Type a city, a 5-digit ZIP code or a state.")

    state = STATE_LOOKUP.get(text.lower().replace(".", ""))
    if state:
        return PlaceAnswer(url=results_url({"state": state, **extra}))

    if _ZIP.match(text):
        if geo.zip_centroid(text) is None:
            return PlaceAnswer(
                error=f"We do not know the ZIP code {text}. Check the digits, "
                "or type your city and state instead."
            )
        return PlaceAnswer(url=results_url({"near": text, **extra}))

    city_key = normalize_city(text)
    states = _cities_with_listings(city_key) if "," not in text else []
    if len(states) == 1:
        return PlaceAnswer(url=_city_url(text, states[0], extra))
    if len(states) > 1:
        return PlaceAnswer(
            error=f"We list programs in more than one “{text}”. Which one do you mean?",
            ambiguous=True,
            choices=[(f"{text}, {state_name(st)}", _city_url(text, st, extra)) for st in states],
        )

    try:
        place = geo.resolve_place(text)
    except geo.PlaceError as error:
        return PlaceAnswer(
            error=error.message,
            choices=[(s, results_url({"near": s, **extra})) for s in error.suggestions],
            ambiguous=error.message.startswith("There is a"),
        )
    return PlaceAnswer(
        url=results_url({"near": place.label if place.kind == "city" else text, **extra})
    )


def with_default_scope(query):
    """A copy of the request's GET data with level_of_care=OIT unless level_of_care was given."""
    data = query.copy() if isinstance(query, QueryDict) else QueryDict(mutable=True)
    if "level_of_care" not in data:
        data.setlist("level_of_care", [DEFAULT_LEVEL_OF_CARE])
    return data


def is_default_scope(query):
    return "level_of_care" not in query


# Parameters shown as chips, in this order, with how their values are labelled.
_TERM_PARAMS = {
    "level_of_care": ("Level of care", vocab.LEVEL_OF_CARE),
    "payment": ("Payment", vocab.PAYMENT),
    "ownership": ("Run by", vocab.OWNERSHIP),
    "population": ("Serves", vocab.POPULATION),
    "age": ("Age", vocab.AGE),
    "language": ("Language", vocab.LANGUAGE),
    "medication": ("Medication", vocab.MEDICATION),
}
_BOOLEAN_PARAMS = {
    "co_occurring": ("Treats mental health and substance use together", "Not co-occurring"),
    "financial_assistance": ("Offers financial assistance", "No financial assistance"),
    "telehealth": ("Virtual (telehealth) sessions", "No virtual sessions"),
    "evening": ("Evening sessions", "No evening sessions"),
}
_TEXT_PARAMS = {
    "q": "Name or keyword",
    "city": "City",
    "zip": "ZIP code",
    "max_hours_per_week": "At most (hours a week)",
}
# Dropping `near` also drops what only makes sense with it.
_DEPENDENT = {"near": ("radius", "ordering")}


def _split(values):
    parts = []
    for value in values:
        parts.extend(p.strip() for p in str(value).split(",") if p.strip())
    return parts


def _without(query, key, value=None):
    """The query string with one value of `key` removed (all of them when value is None)."""
    data = query.copy()
    data.pop("page", None)
    if value is None:
        data.pop(key, None)
        for dependent in _DEPENDENT.get(key, ()):
            if dependent != "ordering" or data.get("ordering") == "distance":
                data.pop(dependent, None)
    else:
        remaining = [v for v in _split(data.getlist(key)) if v.upper() != value.upper()]
        if key == "level_of_care" and not remaining:
            remaining = [""]  # keep "every level" rather than falling back to the default
        data.setlist(key, remaining)
        if not remaining:
            data.pop(key)
    return data.urlencode()


@dataclass
class Chip:
    label: str
    remove_url: str
    is_default: bool = False


def active_filters(query):
    """Chips for what the request filters on, each linking to the same search without it."""
    base = reverse("facilities:list")

    def link(key, value=None):
        rest = _without(query, key, value)
        return f"{base}?{rest}" if rest else base

    chips = []
    near = query.get("near", "").strip()
    if near:
        radius = query.get("radius") or DEFAULT_RADIUS_MILES
        chips.append(Chip(f"Within {radius} miles of {near}", link("near")))
    for code in _split(query.getlist("state")):
        chips.append(Chip(f"State: {state_name(code.upper())}", link("state", code)))
    for key, label in _TEXT_PARAMS.items():
        value = query.get(key, "").strip()
        if value:
            chips.append(Chip(f"{label}: {value}", link(key)))
    for key, (label, group) in _TERM_PARAMS.items():
        if key == "level_of_care" and is_default_scope(query):
            labels = selectors.term_labels(group)
            everything = query.copy()
            everything.pop("page", None)
            everything.setlist("level_of_care", [""])
            chips.append(
                Chip(
                    f"Only {labels.get(DEFAULT_LEVEL_OF_CARE)} (the default)",
                    f"{base}?{everything.urlencode()}",
                    is_default=True,
                )
            )
            continue
        labels = selectors.term_labels(group)
        for code in _split(query.getlist(key)):
            chips.append(Chip(f"{label}: {labels.get(code.upper(), code)}", link(key, code)))
    for key, (yes, no) in _BOOLEAN_PARAMS.items():
        value = query.get(key, "").strip().lower()
        if value:
            chips.append(Chip(yes if value in {"true", "1", "yes", "on"} else no, link(key)))
    return chips


# Nearby listings are looked for within the first radius, then the next: in a city the
# nearest few are close, and a 100-mile box there holds thousands of listings.
NEARBY_FIRST_RADIUS_MILES = 10


def nearby_iops(facility, count, radius_miles):
    """The closest other published IOP listings within radius_miles, nearest first: what
    the search near the listing's point with level_of_care=IOP finds, without parsing one."""
    if facility.latitude is None or facility.longitude is None:
        return []
    iop = selectors.term_ids(vocab.LEVEL_OF_CARE, [DEFAULT_LEVEL_OF_CARE])
    others = (
        selectors.published_facilities()
        .exclude(pk=facility.pk)
        .filter(selectors.has_any_term("levels_of_care", iop))
    )
    for radius in sorted({min(NEARBY_FIRST_RADIUS_MILES, radius_miles), radius_miles}):
        nearby = selectors.within(others, facility.latitude, facility.longitude, radius)
        nearby = nearby.order_by("distance_miles", "name", "id")
        # Ids first: their distances come from the (latitude, longitude) index alone.
        nearest = selectors.rows_by_ids_first(nearby, 0, count, selectors.for_list)
        if len(nearest) == count:
            return nearest  # anything outside this radius is farther than these
    return nearest


def ordering_choices(has_place):
    return [(value, label) for value, label in ORDERING_CHOICES if has_place or value != "distance"]


def state_links(counts):
    """[(code, name, count)] sorted by state name, from {code: count}."""
    return sorted(
        ((code, STATES.get(code, code), count) for code, count in counts.items()),
        key=lambda row: row[1],
    )
