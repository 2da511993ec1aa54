"""The home page's single box: what someone typed, turned into a search.

"Jackson, MS", "Jackson", "39201" or "Mississippi" becomes a results URL, a
choice of places (a city in several states) or an error with close matches.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from .. import geo, selectors
from ..states import STATE_LOOKUP, state_name
from ..text import normalize_city

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
