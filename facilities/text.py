"""Small text helpers shared by models, filters and importers."""

import re

from django.utils.text import slugify

# Abbreviations people type either way in US place names ("St. Louis" = "Saint Louis").
_CITY_WORDS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount", "pt": "point"}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_city(city):
    """Return the key cities are matched on: lower case, no punctuation, words spelled out."""
    words = _NON_ALNUM.sub(" ", (city or "").lower()).split()
    return " ".join(_CITY_WORDS.get(word, word) for word in words)


def city_slug(city):
    """The URL form of a city: /states/mo/saint-louis/."""
    return slugify(normalize_city(city))


def digits(phone):
    """Digits of a phone number, for tel: links and matching."""
    return re.sub(r"\D", "", phone or "")
