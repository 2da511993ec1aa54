"""Offline geocoding and distance: ZIP codes and cities from the `zipcodes` package.

Nothing here calls the network. `resolve_place` turns what a person typed in a
"near" box into a point; `distance_expression` and `bounding_box` let the
database do the radius search (bounding box on an index first, exact
great-circle distance only for the rows inside it).
"""

import csv
import difflib
import gzip
import io
import math
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.db.models import F, FloatField, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from .states import STATE_LOOKUP, STATES, state_name
from .text import normalize_city

EARTH_RADIUS_MILES = 3958.7613
MILES_PER_DEGREE_LATITUDE = 69.0932  # 2 * pi * R / 360

_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_LAT_LNG = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_CITY_COMMA_STATE = re.compile(r"^\s*(.+?)\s*,\s*([A-Za-z .]+?)\s*$")
_CITY_SPACE_STATE = re.compile(r"^\s*(.+?)\s+([A-Za-z]{2})\s*$")


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str
    kind: str  # "zip", "city", "point"
    state: str = ""


@dataclass
class PlaceError(Exception):
    """What was typed could not be placed; `suggestions` are close matches to offer."""

    message: str
    suggestions: list = field(default_factory=list)

    def __str__(self):
        return self.message


# Every state code in the zipcodes data: states, DC, territories, freely associated
# states and military mail (AA, AE, AP).
ZIP_STATE_CODES = tuple(
    dict.fromkeys([*STATES, "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"])
)


# ZIP centres as the `zipcodes` package has them, one line per ZIP: written by
# `manage.py export_zip_table` (make zip-table) and checked against the package by the
# tests. Read from this file because the package's own tables, once loaded, stay in
# every gunicorn worker: 38 MB more per worker than the 12 MB this file becomes.
ZIP_TABLE_PATH = Path(__file__).with_name("zip_centroids.csv.gz")
ZIP_TABLE_COLUMNS = ["zip", "latitude", "longitude", "city", "state"]


def zip_rows_from_package():
    """(zip, lat, lng, city, state) for every located ZIP in the `zipcodes` package."""
    import zipcodes

    rows = []
    for state in ZIP_STATE_CODES:
        for row in zipcodes.filter_by_state(state):
            try:
                point = float(row["lat"]), float(row["long"])
            except (TypeError, ValueError):
                continue
            rows.append((row["zip_code"], *point, row["city"], row["state"]))
    return sorted(rows)


def write_zip_table(path=ZIP_TABLE_PATH):
    """Write the ZIP table file (gzip with no timestamp: the same package, the same bytes)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(ZIP_TABLE_COLUMNS)
        writer.writerows(
            (code, repr(lat), repr(lng), city, st)
            for code, lat, lng, city, st in zip_rows_from_package()
        )
        text.flush()
        text.detach()


@lru_cache(maxsize=1)
def _zip_table():
    """ZIP -> (lat, lng, city, state), loaded once per process from ZIP_TABLE_PATH."""
    table = {}
    with gzip.open(ZIP_TABLE_PATH, "rt", encoding="utf-8", newline="") as lines:
        reader = csv.reader(lines)
        next(reader)
        for code, lat, lng, city, state in reader:
            # Interned: 42,000 ZIPs name 30,000 cities and 60 states.
            table[code] = (float(lat), float(lng), sys.intern(city), sys.intern(state))
    return table


@lru_cache(maxsize=1)
def _city_table():
    """(normalized city, state) -> (lat, lng, display name): the mean of the city's ZIPs."""
    sums = {}
    for lat, lng, city, state in _zip_table().values():
        key = (normalize_city(city), state)
        total = sums.setdefault(key, [0.0, 0.0, 0, city])
        total[0] += lat
        total[1] += lng
        total[2] += 1
    return {key: (t[0] / t[2], t[1] / t[2], t[3]) for key, t in sums.items()}


@lru_cache(maxsize=1)
def _states_by_city():
    states = {}
    for city_key, state in _city_table():
        states.setdefault(city_key, []).append(state)
    return states


def zip_centroid(zip_code):
    """(latitude, longitude) of a ZIP code's centre, or None if unknown."""
    match = _ZIP.match(zip_code or "")
    if not match:
        return None
    row = _zip_table().get(match.group(1))
    return (row[0], row[1]) if row else None


@lru_cache(maxsize=64)
def state_centre(state):
    """(latitude, longitude): the mean of a state's ZIP centres, or None. What a search in a
    state measures "the nearest programs outside it" from."""
    points = [(row[0], row[1]) for row in _zip_table().values() if row[3] == state]
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def zip_place(zip_code):
    """The city and state a ZIP belongs to, or None."""
    row = _zip_table().get((zip_code or "")[:5])
    return (row[2], row[3]) if row else None


def city_point(city, state):
    """(latitude, longitude) of a city's centre, or None."""
    row = _city_table().get((normalize_city(city), (state or "").upper()))
    return (row[0], row[1]) if row else None


def _state_code(text):
    return STATE_LOOKUP.get(re.sub(r"\s+", " ", text.strip().lower().replace(".", "")))


def _suggest_cities(city_key, state=None, limit=5):
    if state:
        candidates = [key for key, st in _city_table() if st == state]
    else:
        candidates = list(_states_by_city())
    close = difflib.get_close_matches(city_key, candidates, n=limit, cutoff=0.75)
    suggestions = []
    for key in close:
        for st in [state] if state else sorted(_states_by_city()[key])[:3]:
            suggestions.append(f"{_city_table()[(key, st)][2]}, {st}")
    return suggestions[:limit]


def _city_place(city_text, state):
    key = normalize_city(city_text)
    row = _city_table().get((key, state))
    if row is None:
        raise PlaceError(
            f"We could not find a place called “{city_text}” in {state_name(state)}.",
            _suggest_cities(key, state),
        )
    return Place(row[0], row[1], f"{row[2]}, {state}", "city", state)


def resolve_place(text):
    """Turn "38655", "Oxford, MS", "Oxford MS", "Oxford" or "34.36,-89.52" into a Place.

    Raises PlaceError with a message for people and close matches to suggest.
    """
    text = (text or "").strip()
    if not text:
        raise PlaceError("Enter a ZIP code, a city and state, or a city.")
    if len(text) > 100:
        raise PlaceError("That place name is too long; enter a ZIP code or “City, ST”.")

    if match := _ZIP.match(text):
        row = _zip_table().get(match.group(1))
        if row is None:
            raise PlaceError(f"We do not know the ZIP code {match.group(1)}.")
        return Place(row[0], row[1], f"{match.group(1)} ({row[2]}, {row[3]})", "zip", row[3])

    if match := _LAT_LNG.match(text):
        lat, lng = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise PlaceError("Latitude must be between -90 and 90, longitude between -180 and 180.")
        return Place(lat, lng, f"{lat:.4f}, {lng:.4f}", "point")

    if match := _CITY_COMMA_STATE.match(text):
        state = _state_code(match.group(2))
        if state is None:
            raise PlaceError(f"“{match.group(2)}” is not a US state or its two-letter code.")
        return _city_place(match.group(1), state)

    if (match := _CITY_SPACE_STATE.match(text)) and _state_code(match.group(2)):
        city_key = normalize_city(match.group(1))
        if (city_key, _state_code(match.group(2))) in _city_table():
            return _city_place(match.group(1), _state_code(match.group(2)))

    key = normalize_city(text)
    states = _states_by_city().get(key, [])
    if len(states) == 1:
        return _city_place(text, states[0])
    if len(states) > 1:
        options = [f"{_city_table()[(key, st)][2]}, {st}" for st in sorted(states)]
        raise PlaceError(
            f"There is a “{text}” in {len(states)} states. Which one do you mean?", options
        )
    if _state_code(text):
        raise PlaceError(
            f"{STATES[_state_code(text)]} is a whole state: pick it as the state, "
            "or enter a city or ZIP code to search near."
        )
    raise PlaceError(f"We could not find a place called “{text}”.", _suggest_cities(key))


def haversine_miles(lat1, lng1, lat2, lng2):
    """Great-circle distance in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude, longitude, miles):
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle, for an indexed prefilter."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = math.cos(math.radians(min(89.9, abs(latitude) + dlat)))
    dlng = min(180.0, miles / (MILES_PER_DEGREE_LATITUDE * max(cos_lat, 1e-6)))
    return latitude - dlat, latitude + dlat, longitude - dlng, longitude + dlng


def distance_expression(latitude, longitude, lat_field="latitude", lng_field="longitude"):
    """The haversine distance in miles from a point, computed by the database."""
    lat0 = Value(math.radians(latitude), output_field=FloatField())
    lng0 = Value(math.radians(longitude), output_field=FloatField())
    lat = Radians(F(lat_field))
    lng = Radians(F(lng_field))
    a = Power(Sin((lat - lat0) / 2), 2) + Cos(lat0) * Cos(lat) * Power(Sin((lng - lng0) / 2), 2)
    return Value(2 * EARTH_RADIUS_MILES, output_field=FloatField()) * ASin(
        Sqrt(Least(a, Value(1.0, output_field=FloatField())))
    )


def warm():
    """Load the ZIP and city tables now (about half a second) rather than on a first search."""
    _states_by_city()
