"""The search parameters: one row each, the only place a parameter's facts are written.

A row gives a parameter's public name (URLs and the API), its label (one wording,
shown on the filter panel, the chips, the error summary and in the API schema),
how its value is read, its vocabulary group, the listing or service line field it
filters (its level: conditions on lines must be met by one line together) and the
list column (CSV and API item) that shows it, the results page's default, the
panel's hint and where the panel shows it. Read by search/filters.py (the
FilterSet), search/page.py (the results page), api/schema.py (the OpenAPI
parameters) and exports.py (the CSV column notes).

The parsers below are the only ones: splitting and upper-casing codes, the words
that mean true and false, and the radius.
"""

from dataclasses import dataclass

from .. import vocabulary as vocab
from ..states import STATE_CHOICES

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})

MAX_RADIUS_MILES = 500
DEFAULT_RADIUS_MILES = 25
# The results page shows intensive outpatient programs unless level_of_care is given;
# an empty level_of_care= means "every level of care".
DEFAULT_LEVEL_OF_CARE = "OIT"

ORDERING_CHOICES = [
    ("distance", "Distance (nearest first)"),
    ("name", "Name (A-Z)"),
    ("verified", "Recently verified"),
]

# Kinds of parameter: how a value is read and how the panel and the schema show it.
TEXT = "text"  # free text with a length limit
PLACE = "place"  # free text read as a place (near)
CODES = "codes"  # fixed codes (states); several mean OR
TERMS = "terms"  # codes of a vocabulary group; several mean OR
BOOLEAN = "boolean"  # true/false
NUMBER = "number"  # a number within limits
CHOICE = "choice"  # one of fixed choices

# What a filter reads: the listing itself (the place: where it is, who runs it, its name,
# co-occurring care) or one service line (the program: care, payment, who it serves,
# schedule). The line conditions of one search must all be met by the same line.
LISTING = "listing"
LINE = "line"
# What a LINE parameter means, in the API schema's words.
LINE_MEANING = (
    "Met by one program (service line) of the place, together with the search's other "
    "program conditions: IOP and Medicaid means a Medicaid IOP."
)

# The filter panel's sections, in order: (key, heading). A section's key is also its
# element id (field-KEY), which the error summary links to. "where" is the panel's
# top, where each field is linked to by its own id.
WHERE = "where"
SECTIONS = [
    ("level_of_care", "Level of care"),
    ("payment", "Payment"),
    ("co_occurring", "Mental health and medication"),
    ("population", "Who it serves"),
    ("schedule", "Schedule"),
    ("ownership", "Who runs it"),
]
_SECTION_KEYS = {key for key, _ in SECTIONS}


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str
    help: str = ""  # for developers: the API schema's sentence after the label
    hint: str = ""  # for people: a line under the label on the filter panel
    group: str | None = None  # TERMS: the vocabulary group
    field: str | None = None  # the Facility or ServiceLine field it filters, where it is one
    level: str = LISTING  # LISTING or LINE: whose field it filters
    column: str | None = None  # the list column (CSV and API item) that shows it
    default: str | None = None  # the results page's value when the parameter is absent
    section: str = WHERE  # where the filter panel shows it
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple = ()  # CODES and CHOICE: (value, label) pairs
    options: tuple = ()  # NUMBER: the values the panel offers

    @property
    def anchor(self):
        """The element the error summary links to for this parameter."""
        if self.name == "ordering":
            return "filters"  # the sort form is shown with results only; the panel always
        if self.section in _SECTION_KEYS:
            return f"field-{self.section}"
        return f"id_{self.name}"

    def chip_label(self, text):
        """A chip's words for one value: "Payment accepted: Medicaid"."""
        return f"{self.label}: {text}"

    def boolean_chip_label(self, value):
        return self.label if value else f"{self.label}: no"


PARAMS = [
    Param(
        "q",
        "Name or keyword",
        TEXT,
        help="Words found in the facility or program name, or the city.",
        max_length=200,
    ),
    Param(
        "city",
        "City",
        TEXT,
        help="City name; case and punctuation do not matter (St. Louis = Saint Louis).",
        field="city_key",
        column="city",
        max_length=100,
    ),
    Param(
        "state",
        "State",
        CODES,
        help="Two-letter USPS state code; several mean OR.",
        field="state",
        column="state",
        choices=tuple(STATE_CHOICES),
    ),
    Param(
        "zip",
        "ZIP code",
        TEXT,
        help="5-digit ZIP code.",
        field="zip",
        column="zip",
        max_length=10,
    ),
    Param(
        "near",
        "Near",
        PLACE,
        help='A ZIP code, "City, ST", "City ST", a city name, or "lat,lng".',
        hint="city and state, or ZIP code",
        column="distance_miles",
        max_length=100,
    ),
    Param(
        "radius",
        "Within (miles)",
        NUMBER,
        help=f"Miles from `near`, 1 to {MAX_RADIUS_MILES} (default {DEFAULT_RADIUS_MILES}).",
        hint="Used when you search near a place.",
        min_value=1,
        max_value=MAX_RADIUS_MILES,
        options=(5, 10, 25, 50, 100, 250, MAX_RADIUS_MILES),
    ),
    Param(
        "level_of_care",
        "Level of care",
        TERMS,
        help="OIT is intensive outpatient (IOP); ODT partial hospitalization; ORT outpatient.",
        hint="We show intensive outpatient programs (IOP) unless you choose otherwise.",
        group=vocab.LEVEL_OF_CARE,
        field="levels_of_care",
        column="levels_of_care",
        default=DEFAULT_LEVEL_OF_CARE,
        level=LINE,
        section="level_of_care",
    ),
    Param(
        "payment",
        "Payment accepted",
        TERMS,
        hint="Programs that take any of the ones you tick.",
        group=vocab.PAYMENT,
        field="payment_options",
        column="payment_options",
        level=LINE,
        section="payment",
    ),
    Param(
        "financial_assistance",
        "Offers a sliding fee scale or other financial help",
        BOOLEAN,
        help="true: offers a sliding fee scale or other payment assistance.",
        field="payment_assistance",
        column="financial_assistance",
        level=LINE,
        section="payment",
    ),
    Param(
        "ownership",
        "Run by",
        TERMS,
        help="FED includes VA (VAMC), Defense (DDF) and Indian Health Service (IH).",
        hint="Federal includes VA, Defense and Indian Health.",
        group=vocab.OWNERSHIP,
        field="ownership",
        column="ownership",
        section="ownership",
    ),
    Param(
        "population",
        "Serves",
        TERMS,
        group=vocab.POPULATION,
        field="populations",
        column="populations",
        level=LINE,
        section="population",
    ),
    Param(
        "co_occurring",
        "Treats mental health and substance use together",
        BOOLEAN,
        field="co_occurring",
        column="co_occurring",
        section="co_occurring",
    ),
    Param(
        "age",
        "Age group",
        TERMS,
        group=vocab.AGE,
        field="age_groups",
        column="age_groups",
        level=LINE,
        section="population",
    ),
    Param(
        "language",
        "Language",
        TERMS,
        group=vocab.LANGUAGE,
        field="languages",
        column="languages",
        level=LINE,
        section="population",
    ),
    Param(
        "medication",
        "Medication offered",
        TERMS,
        group=vocab.MEDICATION,
        field="medications",
        column="medications",
        level=LINE,
        section="co_occurring",
    ),
    Param(
        "telehealth",
        "Virtual (telehealth) sessions",
        BOOLEAN,
        help="true: offers virtual sessions or telehealth as a level of care.",
        field="offers_virtual",
        column="virtual",
        level=LINE,
        section="schedule",
    ),
    Param(
        "evening",
        "Evening sessions",
        BOOLEAN,
        field="offers_evening",
        column="evening",
        level=LINE,
        section="schedule",
    ),
    Param(
        "max_hours_per_week",
        "Hours a week, at most",
        NUMBER,
        help="Programs whose schedule can be as light as this (hours_per_week_min <= N).",
        field="hours_per_week_min",
        column="hours_per_week_min",
        level=LINE,
        section="schedule",
        min_value=1,
        max_value=40,
        options=(6, 9, 12, 15, 20),
    ),
    Param(
        "ordering",
        "Sort by",
        CHOICE,
        help="distance (needs near; the default then), name (the default otherwise), "
        "or verified (most recently verified first).",
        choices=tuple(ORDERING_CHOICES),
    ),
]
BY_NAME = {param.name: param for param in PARAMS}


def in_section(section):
    return [param for param in PARAMS if param.section == section]


# --- Parsing: the only readers of these values --------------------------------------------


def split_codes(values):
    """Codes from a parameter's values: repeated (payment=MD&payment=MI) or comma-separated
    (payment=MD,MI), any case; blanks dropped, order kept."""
    if isinstance(values, str):
        values = [values]
    codes = []
    for value in values:
        codes.extend(part.strip().upper() for part in str(value).split(",") if part.strip())
    return codes


def parse_boolean(value):
    """True, False, or None for nothing; ValueError for anything else."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(value)


def with_defaults(query):
    """A mutable copy of a QueryDict with the results page's defaults for what it lacks
    (level_of_care=OIT); an empty value (level_of_care=) stays: it means "any"."""
    data = query.copy()
    for param in PARAMS:
        if param.default is not None and param.name not in data:
            data.setlist(param.name, [param.default])
    return data


def uses_default(query, name):
    """True when the page applies `name`'s default because the query does not give it."""
    return BY_NAME[name].default is not None and name not in query
