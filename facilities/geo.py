"""Offline geocoding and distance: ZIP codes and cities from the `zipcodes` package.

Nothing here calls the network. `resolve_place` turns what a person typed in a
"near" box into a point ("jackson mississippi", "Jackson MS 39201", "jackson, miss.",
"39201-1234"), or explains why not with close matches ranked by similarity (rapidfuzz,
over an index built once per process) and by where listings are. `distance_expression`
and `bounding_box` let the database do the radius search (bounding box on an index
first, exact great-circle distance only for the rows inside it).
"""

import csv
import functools
import gzip
import io
import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from django.db.models import F, FloatField, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from rapidfuzz import fuzz, process

from .states import STATES, state_name
from .text import normalize_city

EARTH_RADIUS_MILES = 3958.7613
MILES_PER_DEGREE_LATITUDE = 69.0932  # 2 * pi * R / 360

_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_LAT_LNG = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str
    kind: str  # "zip", "city", "point"
    state: str = ""
    zip_code: str = ""  # the five digits, for a ZIP

    @property
    def near_value(self):
        """What to search near: "39201" (even when "39201-1234" was typed), "Jackson, MS"."""
        return self.zip_code or self.label


@dataclass
class PlaceError(Exception):
    """What was typed could not be placed; `choices` are places to offer (Suggestion)."""

    message: str
    choices: list = field(default_factory=list)
    # True when the place exists in several states: a question, not a mistake.
    ambiguous: bool = False

    @property
    def suggestions(self):
        """What to search for instead, as text: ["Oxford, MS"]."""
        return [choice.value for choice in self.choices]

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
    """(normalized city, state) -> (lat, lng, display name, ZIP count): the mean of the
    city's ZIPs; the count stands in for its size when ranking close matches."""
    sums = {}
    for lat, lng, city, state in _zip_table().values():
        key = (normalize_city(city), state)
        total = sums.setdefault(key, [0.0, 0.0, 0, city])
        total[0] += lat
        total[1] += lng
        total[2] += 1
    return {key: (t[0] / t[2], t[1] / t[2], t[3], t[2]) for key, t in sums.items()}


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


def city_name(city_key, state):
    """A city's name as the ZIP table spells it ("Saint Louis"), or None."""
    row = _city_table().get((city_key, state))
    return row[2] if row else None


def city_point(city, state):
    """(latitude, longitude) of a city's centre, or None."""
    row = _city_table().get((normalize_city(city), (state or "").upper()))
    return (row[0], row[1]) if row else None


# --- Reading what was typed ---------------------------------------------------------

# Traditional (pre-ZIP) abbreviations people still write: "Jackson, Miss.", "Calif.",
# "N. Car.". Keys are compact: lower case with spaces and periods dropped ("n car" ->
# "ncar"), as state_code() compares them.
STATE_ABBREVIATIONS = {
    "ala": "AL", "alab": "AL", "alas": "AK", "ariz": "AZ", "ark": "AR", "cal": "CA",
    "calif": "CA", "colo": "CO", "conn": "CT", "del": "DE", "fla": "FL", "flor": "FL",
    "ida": "ID", "ill": "IL", "ills": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
    "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT", "neb": "NE",
    "nebr": "NE", "nev": "NV", "nmex": "NM", "ncar": "NC", "nocar": "NC", "ndak": "ND",
    "nodak": "ND", "okla": "OK", "ore": "OR", "oreg": "OR", "penn": "PA", "penna": "PA",
    "scar": "SC", "socar": "SC", "sdak": "SD", "sodak": "SD", "tenn": "TN", "tex": "TX",
    "wash": "WA", "wva": "WV", "wis": "WI", "wisc": "WI", "wyo": "WY", "pr": "PR",
}  # fmt: skip
_STATE_WORDS = {
    **{re.sub(r"[\s.]", "", name.lower()): code for code, name in STATES.items()},
    **{code.lower(): code for code in STATES},
    **STATE_ABBREVIATIONS,
}
_STATE_SPACING = re.compile(r"[\s.]+")
# ", USA" and the like after a place: said, but tells us nothing.
_COUNTRY = re.compile(r"[\s,]+(?:u\.?\s?s\.?(?:\s?a\.?)?|united states(?: of america)?)$", re.I)
# A ZIP or ZIP+4 at the end: "39201", "39201-1234", "392011234", "Jackson MS 39201".
_TRAILING_ZIP = re.compile(r"(?:^|[\s,;])(\d{5})(?:\s*-\s*\d{4}|\d{4})?$")
_SEPARATORS = re.compile(r"\s*[,;]+\s*")
_DIGITS_ONLY = re.compile(r"^[\d\s-]+$")
MAX_PLACE_LENGTH = 100
# The most trailing words a state can take: "district of columbia".
_STATE_MAX_WORDS = 3


def state_code(text, alone=False):
    """The two-letter code of "Mississippi", "ms", "Miss.", "N. Car." or "Calif.", or None.

    alone=True: the text is all that was typed, so an old abbreviation that is also a
    city's name ("Penn", "Ida", "Colo") is the city, not the state.
    """
    compact = _STATE_SPACING.sub("", (text or "").lower()).strip(",;")
    if alone and compact in STATE_ABBREVIATIONS and compact in _states_by_city():
        return None
    return _STATE_WORDS.get(compact)


def clean_place_text(text):
    """What was typed with control characters dropped and spaces collapsed (NFKC)."""
    text = unicodedata.normalize("NFKC", text or "")
    # NUL, other controls and invisible format characters: never part of a place.
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())


@dataclass(frozen=True)
class PlaceText:
    """What a person typed, read into its parts (nothing looked up yet but the state)."""

    city: str = ""  # as typed, tidied
    state: str = ""  # a two-letter code, when one was given and understood
    state_text: str = ""  # the state part as typed, when it was not understood
    zip_code: str = ""  # five digits, when one was given

    @property
    def city_key(self):
        return normalize_city(self.city)


def read_place(text):
    """Split "jackson mississippi", "Jackson MS 39201", "jackson, miss." or "39201-1234"
    into city, state and ZIP. Raises PlaceError for text that cannot be a place at all.

    Without a comma, the trailing one to three words are the state only if the words
    before them name a city of that state ("Kansas City" stays a city, "Mount Vernon
    in" is Mount Vernon, Indiana); otherwise the first reading that names a state is
    kept, to explain what was not found.
    """
    text = clean_place_text(text)
    if not text:
        raise PlaceError("Enter a ZIP code, a city and state, or a city.")
    if len(text) > MAX_PLACE_LENGTH:
        raise PlaceError("That place name is too long; enter a ZIP code or “City, ST”.")
    if not normalize_city(text):  # only punctuation, symbols or emoji
        raise PlaceError("Enter a ZIP code, a city and state, or a city: letters or digits.")
    if _DIGITS_ONLY.match(text) and not _TRAILING_ZIP.search(text):
        raise PlaceError("A ZIP code has 5 digits (or 5 and 4, as in 39201-1234).")

    text = _COUNTRY.sub("", text) or text
    zip_code = ""
    if match := _TRAILING_ZIP.search(text):
        zip_code = match.group(1)
        text = text[: match.start()].strip(" ,;")
    if not text:
        return PlaceText(zip_code=zip_code)

    parts = [part for part in _SEPARATORS.split(text) if part]
    if len(parts) > 1:  # "Jackson, MS", "Jackson,, Miss.", "Jackson; Hinds County; MS"
        city, state_part = parts[0], parts[-1]
        if state_code(city) and not state_code(state_part):  # "MS, Jackson"
            city, state_part = state_part, city
        code = state_code(state_part)
        if code:
            return PlaceText(city, code, zip_code=zip_code)
        return PlaceText(city, state_text=state_part, zip_code=zip_code)
    if not parts:
        return PlaceText(zip_code=zip_code)

    words = parts[0].split(" ")
    first_reading = None
    for count in range(min(_STATE_MAX_WORDS, len(words) - 1), 0, -1):
        code = state_code(" ".join(words[-count:]))
        if not code:
            continue
        reading = PlaceText(" ".join(words[:-count]), code, zip_code=zip_code)
        if (reading.city_key, code) in _city_table():
            return reading
        first_reading = first_reading or reading
    city_only = PlaceText(parts[0], zip_code=zip_code)
    # A city of that name (or a whole state) wins over a reading whose city is unknown.
    if first_reading and not (city_only.city_key in _states_by_city() or state_code(text)):
        return first_reading
    return city_only


# --- Where listings are: for ranking choices -----------------------------------------


@dataclass(frozen=True)
class ListingCounts:
    """Published listings per city and per state, to rank and label places to choose from.

    The database query lives with the search (search/places.listing_counts); geography
    only reads the numbers it is handed.
    """

    by_city: dict = field(default_factory=dict)  # {city_key: {state: count}}
    by_state: dict = field(default_factory=dict)  # {state: count}

    def in_city(self, city_key, state):
        return self.by_city.get(city_key, {}).get(state, 0)


NO_LISTINGS = ListingCounts()


@dataclass(frozen=True)
class Suggestion:
    """A place to offer: `value` is what to search for ("Springfield, IL")."""

    value: str
    programs: int = 0  # published listings in that city

    @property
    def label(self):
        """ "Springfield, IL (4 programs)": the count only where there are listings."""
        if not self.programs:
            return self.value
        return f"{self.value} ({self.programs} program{'s' if self.programs != 1 else ''})"


# --- Close matches ---------------------------------------------------------------------

SIMILARITY_CUTOFF = 75  # rapidfuzz's ratio, 0-100: "oxfrd" ~ "oxford" is 91
CANDIDATE_NAMES = 20  # closest city names looked at, before ranking their states
SUGGESTIONS = 5
# Ranking points added to a name's similarity: people are offered first the places
# where we have something to show ("Charlotesville": Virginia, where the listings are,
# before Indiana). Small enough that a much closer name still comes first.
LISTED_CITY_BONUS = 6
LISTED_STATE_BONUS = 2


@lru_cache(maxsize=1)
def _fuzzy_index():
    """City keys to match against, all of them and by state: built once per process."""
    by_state = {}
    for city_key, state in _city_table():
        by_state.setdefault(state, []).append(city_key)
    return sorted(_states_by_city()), {state: sorted(keys) for state, keys in by_state.items()}


@lru_cache(maxsize=1)
def _state_names():
    """Compact state names ("northcarolina") and their codes, for misspelled states."""
    names = {re.sub(r"[\s.]", "", name.lower()): code for code, name in STATES.items()}
    return list(names), list(names.values())


def _guess_state(text):
    """The code of a misspelled state name ("Missisippi"), or None."""
    compact = _STATE_SPACING.sub("", (text or "").lower())
    if len(compact) < 4:  # two or three letters are too short to guess from
        return None
    names, codes = _state_names()
    match = process.extractOne(compact, names, scorer=fuzz.ratio, score_cutoff=80)
    return codes[match[2]] if match else None


def _suggest_cities(city_key, state=None, listings=NO_LISTINGS, limit=SUGGESTIONS):
    """Close city names, best first: similarity, then listings there, then size (ZIPs)."""
    if not city_key:
        return []
    all_keys, keys_by_state = _fuzzy_index()
    names = keys_by_state.get(state, []) if state else all_keys
    close = process.extract(
        city_key, names, scorer=fuzz.ratio, limit=CANDIDATE_NAMES, score_cutoff=SIMILARITY_CUTOFF
    )
    table = _city_table()
    ranked = []
    for key, similarity, _ in close:
        for st in [state] if state else _states_by_city()[key]:
            programs = listings.in_city(key, st)
            score = similarity + LISTED_CITY_BONUS * bool(programs)
            score += LISTED_STATE_BONUS * bool(listings.by_state.get(st))
            display, zip_count = table[(key, st)][2:]
            ranked.append(((-score, -zip_count, st, key), Suggestion(f"{display}, {st}", programs)))
    ranked.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in ranked[:limit]]


def _city_place(parts, listings):
    state = parts.state
    row = _city_table().get((parts.city_key, state))
    if row is None:
        raise PlaceError(
            f"We could not find a place called “{parts.city}” in {state_name(state)}.",
            _suggest_cities(parts.city_key, state, listings()),
        )
    return Place(row[0], row[1], f"{row[2]}, {state}", "city", state)


def _choose_state(parts, states, listings):
    """The error for a city in several states: states with listings first, with counts."""
    counts = listings()
    key = parts.city_key

    def programs(state):
        return counts.in_city(key, state)

    listed = sorted((st for st in states if programs(st)), key=lambda st: (-programs(st), st))
    others = sorted(st for st in states if not programs(st))
    message = f"There is a “{parts.city}” in {len(states)} states"
    if listed:
        message += f", and we list programs in {len(listed)} of them"
    table = _city_table()
    return PlaceError(
        f"{message}. Which one do you mean?",
        [Suggestion(f"{table[(key, st)][2]}, {st}", programs(st)) for st in listed + others],
        ambiguous=True,
    )


def _not_a_state(parts):
    guess = _guess_state(parts.state_text)
    row = _city_table().get((parts.city_key, guess)) if guess else None
    return PlaceError(
        f"“{parts.state_text}” is not a US state or its two-letter code.",
        [Suggestion(f"{row[2]}, {guess}")] if row else [],
    )


def _misspelled_state(parts):
    """ "Jackson Missisippi": a known city followed by a close state name, or None."""
    words = parts.city.split(" ")
    for count in range(min(_STATE_MAX_WORDS, len(words) - 1), 0, -1):
        guess = _guess_state(" ".join(words[-count:]))
        row = _city_table().get((normalize_city(" ".join(words[:-count])), guess))
        if row:
            return Suggestion(f"{row[2]}, {guess}")
    return None


def resolve_place(text, program_counts=None):
    """Turn "38655", "39201-1234", "Oxford, MS", "oxford mississippi", "Jackson MS 39201",
    "jackson, miss.", "Oxford" or "34.36,-89.52" into a Place.

    Raises PlaceError with a message for people and close matches to offer.
    `program_counts`, a function returning ListingCounts, ranks and labels those
    matches by where listings are; it is called only when there are matches to rank.
    """
    listings = functools.cache(program_counts) if program_counts else lambda: NO_LISTINGS
    cleaned = clean_place_text(text)
    if match := _LAT_LNG.match(cleaned):
        lat, lng = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise PlaceError("Latitude must be between -90 and 90, longitude between -180 and 180.")
        return Place(lat, lng, f"{lat:.4f}, {lng:.4f}", "point")

    parts = read_place(cleaned)
    if parts.zip_code:
        row = _zip_table().get(parts.zip_code)
        # The ZIP decides, unless it lies in another state than a city named with it.
        named_city = parts.state and (parts.city_key, parts.state) in _city_table()
        if row and (not named_city or row[3] == parts.state):
            label = f"{parts.zip_code} ({row[2]}, {row[3]})"
            return Place(row[0], row[1], label, "zip", row[3], parts.zip_code)
        if not parts.city:
            raise PlaceError(
                f"We do not know the ZIP code {parts.zip_code}. Check the digits, "
                "or type your city and state instead."
            )
    if parts.state:
        return _city_place(parts, listings)
    if parts.state_text:
        raise _not_a_state(parts)

    states = _states_by_city().get(parts.city_key, [])
    if len(states) == 1:
        return _city_place(replace(parts, state=states[0]), listings)
    if len(states) > 1:
        raise _choose_state(parts, states, listings)
    if code := state_code(parts.city):
        raise PlaceError(
            f"{STATES[code]} is a whole state: pick it as the state, "
            "or enter a city or ZIP code to search near."
        )
    guess = _misspelled_state(parts)
    raise PlaceError(
        f"We could not find a place called “{parts.city}”.",
        [guess] if guess else _suggest_cities(parts.city_key, listings=listings()),
    )


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
    """Load the ZIP and city tables and the close-match index now (about half a second)
    rather than on a first search."""
    _fuzzy_index()
