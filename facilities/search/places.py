"""The home page's single box: what someone typed, turned into a search.

"Jackson, MS", "jackson mississippi", "Jackson", "39201-1234" or "Miss." becomes a
results URL, a choice of places (a city in several states, those where we list
programs first with their counts) or an error with close matches. The reading of
places is geo's (the same as the results page's `near`); listing counts come from
one cached grouped query (listing_counts).
"""

import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from .. import data_version, geo, selectors

MAX_PLACE_LENGTH = geo.MAX_PLACE_LENGTH


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


def _count_listings():
    by_city, by_state = {}, {}
    rows = (
        selectors.published_facilities()
        .order_by()
        .values_list("city_key", "state")
        .annotate(count=Count("id"))
    )
    for city_key, state, count in rows:
        by_city.setdefault(city_key, {})[state] = count
        by_state[state] = by_state.get(state, 0) + count
    return geo.ListingCounts(by_city, by_state)


def listing_counts():
    """Published listings per (city, state) and per state: one grouped query per data
    version, shared by every lookup (never a query per place offered)."""
    return data_version.cached("place_listing_counts", _count_listings)


def _city_url(city, state, extra):
    """Search near the city; a town the ZIP table does not know is matched by name instead."""
    if geo.city_point(city, state) is None:
        return results_url({"city": city, "state": state, **extra})
    return results_url({"near": f"{city}, {state}", **extra})


def _choice_url(value, extra):
    """The search for a place offered as "City, ST"."""
    city, _, state = value.rpartition(", ")
    return _city_url(city, state, extra)


def interpret_place(text, extra=None):
    """Read what someone typed in the home page's box.

    A state ("Mississippi", "Miss.") -> ?state=XX; a ZIP, a city or a city with its
    state (read by geo.read_place, as the results page's `near` is) -> ?near=...;
    "Jackson" alone -> the one state where we list a program in Jackson, or a choice
    of states, those with programs first; anything else -> an error with close
    matches. `extra` (e.g. payment codes) is kept in every URL.
    """
    extra = extra or {}
    if not (text or "").strip():
        return PlaceAnswer(url=results_url(extra))
    text = geo.clean_place_text(text)
    if not text:  # only NUL, control or invisible characters
        return PlaceAnswer(error="Type a city, a 5-digit ZIP code or a state.")
    if len(text) > MAX_PLACE_LENGTH:
        return PlaceAnswer(error="That is too long. Type a city, a 5-digit ZIP code or a state.")

    state = geo.state_code(text, alone=True)
    if state:
        return PlaceAnswer(url=results_url({"state": state, **extra}))

    counts = functools.cache(listing_counts)  # read once here, even outside a request
    try:
        parts = geo.read_place(text)
        if parts.city and not (parts.state or parts.state_text or parts.zip_code):
            listed = counts().by_city.get(parts.city_key, {})
            if len(listed) == 1:
                (only,) = listed
                return PlaceAnswer(url=_city_url(_city_name(parts, only), only, extra))
        place = geo.resolve_place(text, program_counts=counts)
    except geo.PlaceError as error:
        return PlaceAnswer(
            error=error.message,
            ambiguous=error.ambiguous,
            choices=[(choice.label, _choice_url(choice.value, extra)) for choice in error.choices],
        )
    return PlaceAnswer(url=results_url({"near": place.near_value, **extra}))


def _city_name(parts, state):
    """The city as the ZIP table spells it ("Jackson" for "jackson"), else as typed."""
    return geo.city_name(parts.city_key, state) or parts.city
