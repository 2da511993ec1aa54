"""Import FindTreatment.gov export pages into listings, and export listings the same way.

The format is described in ../shared/domain/FINDTREATMENT-FORMAT.md. In short:
a page is {"page", "totalPages", "recordCount", "rows": [...]}; a row is one
facility as SA (substance use) or MH (mental health), its services a list of
{"f1": category label, "f2": category code, "f3": "label; label; ..."}.

How an import works:

- Rows are grouped by a stable key (normalized name1, street1, city, state,
  ZIP5), across every file of the run, so the SA and MH rows of one place
  become one listing (the place: name, address, phones, ownership) with one
  service line per row type: the SA row's services are the substance use
  line's, the MH row's the mental health line's, never a union of both.
  Co-occurring care is the place's, from either row's evidence.
- A group matches an existing listing by any of its frids, else by the
  stable key it was created with, else by the key of the listing's current
  (possibly curated) name and address. A match on a listing a curator
  entered by hand is skipped: the place is already listed.
- Labels go through findtreatment_mapping.csv (data, not code).
- A listing's values are derived from all its source rows: a newer SA row
  replaces the old SA row and keeps the MH row, so importing pages one at a
  time gives the same listing as importing them together.
- Fields named in the listing's or a line's curated_fields, and the fields an
  import never writes (description, IOP schedule, verification, publication
  state), are kept; what the import would have changed is reported. A line the
  source no longer describes is left as it is (a curator may have added it).
- Each facility is written in its own transaction; a dry run is the same
  code in one outer transaction that is rolled back.
"""

import csv
import hashlib
import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, transaction

from .. import rows as listing_rows
from .. import vocabulary as vocab
from ..geo import zip_centroid
from ..history import single_history_entry
from ..models import Facility, ServiceLine, Term, phone_validator, zip_validator
from ..states import STATES
from ..text import normalize_city

logger = logging.getLogger(__name__)

MAPPING_PATH = Path(__file__).with_name("findtreatment_mapping.csv")
HISTORY_REASON = "FindTreatment.gov import"

FLAG = "flag"
IGNORE = "ignore"
ANY_LABEL = "*"
FLAG_FIELDS = {"co_occurring"}

# Vocabulary group -> the ServiceLine many-to-many field that holds it (vocabulary.py).
GROUP_FIELDS = vocab.TERM_GROUP_FIELDS
M2M_FIELDS = list(vocab.TERM_FIELD_GROUPS)
SCALAR_FIELDS = [
    "name",
    "program_name",
    "street1",
    "street2",
    "city",
    "state",
    "zip",
    "phone",
    "intake_phone",
    "hotline",
    "website",
    "ownership",
    "co_occurring",
]
# A curator who corrected any of these corrected the location ("location" accepted too).
LOCATION_FIELDS = ["latitude", "longitude", "location_approximate", "location"]

# Position on the page and distance from the search point are not facility data.
VOLATILE_ROW_KEYS = {"_irow", "miles"}

# Pages written by export_findtreatment carry this mark: their rows are our own
# data, so importing them never replaces the FindTreatment rows kept for audit.
EXPORTER = "IOP Finder export_findtreatment"

# Category order used in exports (FindTreatment's own order, roughly).
EXPORT_CATEGORIES = [
    "TC", "SET", "FT", "FOP", "PAY", "PYAS", "SG", "EXCL", "AGE", "GN", "SL", "OL",
    "PHR", "OM", "OT", "TAP", "AS", "ASSES", "EDU", "EMS", "SCR", "TRSRV", "LCA",
]  # fmt: skip
CATEGORY_LABELS = {
    "TC": "Type of Care",
    "SET": "Service Settings (e.g., Outpatient, Residential, Inpatient etc.)",
    "FT": "Facility Type",
    "FOP": "Facility Operation (e.g. Private, Public)",
    "PAY": "Payment/Insurance/Funding Accepted",
    "PYAS": "Payment Assistance Available",
    "SG": "Special Programs/Groups Offered",
    "EXCL": "Exclusive Services",
    "AGE": "Age Groups Accepted",
    "GN": "Gender Accepted",
    "SL": "Language Services",
    "OL": "Other Languages",
    "PHR": "Pharmacotherapies",
    "OM": "Opioid Medications used in Treatment",
    "OT": "Type of Opioid Treatment",
    "TAP": "Treatment Approaches",
    "AS": "Ancillary Services",
    "ASSES": "Assessment/Pre-treatment",
    "EDU": "Counseling Services and Education",
    "EMS": "Emergency Mental Health Services",
    "SCR": "Screening & Testing",
    "TRSRV": "Transitional Services",
    "LCA": "License/Certification/Accreditation",
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "highway": "hwy", "lane": "ln", "court": "ct", "place": "pl",
    "parkway": "pkwy", "circle": "cir", "suite": "ste", "north": "n", "south": "s",
    "east": "e", "west": "w", "first": "1st", "second": "2nd", "third": "3rd",
}  # fmt: skip
_url_validator = URLValidator()


def normalize_label(text):
    """What labels are matched on: 'Buprenorphine with naloxone  (Suboxone®)' -> words only."""
    return _NON_ALNUM.sub(" ", str(text or "").casefold()).strip()


def _normalize_street(text):
    words = normalize_label(text.replace("&", " and ") if text else "").split()
    return " ".join(_STREET_WORDS.get(word, word) for word in words)


def _zip5(value):
    return re.sub(r"\D", "", zip_text(value))[:5]


def stable_key(name, street, city, state, zip_code):
    """The key a listing is matched on when no frid says who it is.

    Readable prefix (state and ZIP) and a digest of the normalized name, street and city;
    "1014 East Market Street" and "1014 E. Market St" give the same key.
    """
    state = str(state or "").strip().upper()
    parts = [
        normalize_label(str(name or "").replace("&", " and ")),
        _normalize_street(str(street or "")),
        normalize_city(str(city or "")),
        state,
        _zip5(zip_code),
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
    return f"{state}-{_zip5(zip_code)}-{digest}"


def facility_key(facility):
    return stable_key(facility.name, facility.street1, facility.city, facility.state, facility.zip)


def zip_text(value):
    """A ZIP as text; a number loses its leading zeros in some exports (2138 -> 02138)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100000:
        return f"{value:05d}"
    return str(value or "").strip()


def split_labels(value):
    if value is None:
        return []
    return [label.strip() for label in str(value).split(";") if label.strip()]


# --- The mapping table -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    group: str
    code: str


@dataclass(frozen=True)
class MappingRow:
    category: str
    label: str
    target: Target


class Mapping:
    """findtreatment_mapping.csv: (category code, label) -> targets."""

    def __init__(self, rows):
        self.rows = rows
        self.explicit = defaultdict(list)  # (category, normalized label) -> [Target]
        self.wildcards = defaultdict(list)  # category -> [group]
        for row in rows:
            if row.label == ANY_LABEL:
                self.wildcards[row.category].append(row.target.group)
            elif row.target.group == IGNORE:
                self.explicit.setdefault((row.category, normalize_label(row.label)), [])
            else:
                self.explicit[(row.category, normalize_label(row.label))].append(row.target)

    @classmethod
    def load(cls, path=MAPPING_PATH):
        groups = set(GROUP_FIELDS) | {vocab.OWNERSHIP, FLAG, IGNORE}
        rows = []
        with open(path, encoding="utf-8", newline="") as handle:
            lines = (line for line in handle if not line.startswith("#"))
            for number, record in enumerate(csv.DictReader(lines), start=2):
                category = (record.get("category_code") or "").strip().upper()
                label = (record.get("label") or "").strip()
                group = (record.get("group") or "").strip()
                code = (record.get("code") or "").strip()
                if not category or not label or group not in groups:
                    raise ImproperlyConfigured(f"{path}: bad mapping row {number}: {record}")
                if group == FLAG and code not in FLAG_FIELDS:
                    raise ImproperlyConfigured(f"{path}: row {number}: unknown flag {code!r}")
                if group not in (FLAG, IGNORE) and label != ANY_LABEL and not code:
                    raise ImproperlyConfigured(f"{path}: row {number}: a code is needed")
                rows.append(MappingRow(category, label, Target(group, code)))
        return cls(rows)


class Vocabulary:
    """The mapping resolved against the terms in the database, for one run."""

    def __init__(self, mapping, terms=None):
        # `terms`: the Term rows to resolve against (a migration passes its historical ones).
        self.mapping = mapping
        terms = Term.objects.all() if terms is None else terms
        self.terms = {(t.group, t.code): t for t in terms}
        self.by_label = {(t.group, normalize_label(t.label)): t for t in self.terms.values()}
        self.code_of = {t.pk: t.code for t in self.terms.values()}
        self.missing_targets = sorted(
            {
                f"{row.target.group}:{row.target.code}"
                for row in mapping.rows
                if row.target.group not in (FLAG, IGNORE)
                and row.label != ANY_LABEL
                and (row.target.group, row.target.code) not in self.terms
            }
        )

    def resolve(self, category, label):
        """A list of Terms and flag names; [] when the label is ignored, None when unknown."""
        category = str(category or "").strip().upper()
        targets = self.mapping.explicit.get((category, normalize_label(label)))
        if targets is not None:
            resolved = []
            for target in targets:
                if target.group == FLAG:
                    resolved.append(target.code)
                elif (target.group, target.code) in self.terms:
                    resolved.append(self.terms[(target.group, target.code)])
            return resolved if resolved or not targets else None
        for group in self.mapping.wildcards.get(category, []):
            term = self.by_label.get((group, normalize_label(label)))
            if term is not None:
                return [term]
        return None


# --- Reading pages -----------------------------------------------------------------


@dataclass
class SourceRow:
    file: str
    number: int
    raw: dict
    key: str
    own_export: bool

    @property
    def where(self):
        return f"{self.file} row {self.number}"

    @property
    def frids(self):
        frids = [self.raw.get("frid")] + list(self.raw.get("frids") or [])
        return [str(frid) for frid in frids if frid]


@dataclass
class ImportReport:
    dry_run: bool = False
    files: int = 0
    rows: int = 0
    listings: int = 0
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)  # (listing, [fields])
    unchanged: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (where, reason): not imported on purpose
    rejected: list = field(default_factory=list)  # (where, reason): bad input
    warnings: list = field(default_factory=list)
    curated_kept: list = field(default_factory=list)  # (listing, field, current, incoming)
    unmapped: Counter = field(default_factory=Counter)  # (category, label) -> occurrences
    unmapped_where: dict = field(default_factory=dict)  # (category, label) -> [where]
    mapped_labels: Counter = field(default_factory=Counter)
    ignored_labels: Counter = field(default_factory=Counter)

    @property
    def ok(self):
        return not self.rejected

    def reject(self, where, reason):
        self.rejected.append((where, reason))

    def summary(self):
        prefix = "DRY RUN (nothing saved): " if self.dry_run else ""
        return (
            f"{prefix}{self.files} file(s), {self.rows} row(s), {self.listings} listing(s): "
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}, "
            f"rejected {len(self.rejected)}, unmapped labels {len(self.unmapped)} "
            f"({sum(self.unmapped.values())} occurrences)"
        )

    def coverage(self):
        """(distinct labels mapped, ignored, unknown; occurrences mapped, ignored, unknown)."""
        return (
            len(self.mapped_labels),
            len(self.ignored_labels),
            len(self.unmapped),
            sum(self.mapped_labels.values()),
            sum(self.ignored_labels.values()),
            sum(self.unmapped.values()),
        )

    def lines(self):
        out = []
        for name in self.created:
            out.append(f"created: {name}")
        for name, fields in self.updated:
            out.append(f"updated: {name} ({', '.join(fields)})")
        for name, field_name, current, incoming in self.curated_kept:
            out.append(
                f"kept curated {field_name} of {name}: {current!r} (import has {incoming!r})"
            )
        for where, reason in self.skipped:
            out.append(f"skipped: {where}: {reason}")
        for where, reason in self.rejected:
            out.append(f"REJECTED: {where}: {reason}")
        for message in self.warnings:
            out.append(f"warning: {message}")
        if self.unmapped:
            out.append("Unmapped labels (count, category, label, first seen):")
            for (category, label), count in sorted(
                self.unmapped.items(), key=lambda item: (-item[1], item[0])
            ):
                where = ", ".join(self.unmapped_where[(category, label)])
                out.append(f"  {count:>5}  {category}: {label}  ({where})")
        mapped, ignored, unknown, mapped_n, ignored_n, unknown_n = self.coverage()
        total, total_n = mapped + ignored + unknown, mapped_n + ignored_n + unknown_n
        if total:
            out.append(
                f"Labels: {mapped}/{total} distinct mapped, {ignored} known and ignored, "
                f"{unknown} unknown ({mapped_n}/{total_n} occurrences mapped)"
            )
        out.append(self.summary())
        return out


def read_paths(paths):
    """[(name, bytes)] for files and folders of *.json files; missing paths are reported."""
    sources, problems = [], []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".json")
            if not files:
                problems.append((str(path), "folder holds no .json files"))
            sources.extend((str(p), p.read_bytes()) for p in files)
        elif path.is_file():
            sources.append((str(path), path.read_bytes()))
        else:
            problems.append((str(path), "no such file or folder"))
    return sources, problems


def parse_page(name, content):
    """(page dict, error message): the JSON of one export page, or why it is not one."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, "not UTF-8 text"
    try:
        page = json.loads(content)
    except RecursionError:  # the parser's own stack: thousands of nested [ or {
        return None, "not an export page (JSON nested too deeply)"
    except ValueError as error:
        return None, f"not JSON ({error})"
    if isinstance(page, list):  # a bare list of rows is accepted too
        page = {"rows": page}
    if not isinstance(page, dict) or not isinstance(page.get("rows"), list):
        return None, 'not an export page (expected an object with a "rows" list)'
    return page, None


# What a row may hold. Real rows nest three deep (row -> services -> entry) and their longest
# text, a services entry's f3 list of labels, is under 2,000 characters.
MAX_ROW_DEPTH = 6
MAX_TEXT_CHARS = 10_000
MAX_ROW_CHARS = 200_000
# Control characters other than tab, line feed and carriage return: never in real data, and
# PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text_problem(value, where, depth=0, budget=None):
    """Why a value read from JSON cannot be stored as text, or None: too deep, too long,
    a NUL or other control character, or a lone surrogate (not Unicode text at all)."""
    budget = budget if budget is not None else [MAX_ROW_CHARS]
    if depth > MAX_ROW_DEPTH:
        return f"{where} is nested too deeply"
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{number}]", item) for number, item in enumerate(value))
    elif isinstance(value, str):
        budget[0] -= len(value)
        if budget[0] < 0:
            return f"the row is longer than {MAX_ROW_CHARS:,} characters"
        if len(value) > MAX_TEXT_CHARS:
            return f"{where} is longer than {MAX_TEXT_CHARS:,} characters"
        if "\x00" in value:
            return f"{where} contains a NUL byte"
        if _CONTROL.search(value):
            return f"{where} contains a control character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where} is not valid Unicode text (a lone surrogate)"
        return None
    else:
        return None  # numbers, true/false, null
    for key, item in items:
        key_problem = _text_problem(key, f"a field name in {where}", depth + 1, budget)
        if key_problem:
            return key_problem
        path = f"{where}.{key}" if not str(key).startswith("[") else f"{where}{key}"
        problem = _text_problem(item, path, depth + 1, budget)
        if problem:
            return problem
    return None


def _check_row(raw):
    """Why a row cannot be imported, or None."""
    if not isinstance(raw, dict):
        return "not an object"
    problem = _text_problem(raw, "the row")
    if problem:
        return problem.replace("the row.", "field ", 1)
    if not str(raw.get("name1") or "").strip():
        return "no name (name1)"
    state = str(raw.get("state") or "").strip().upper()
    if not state:
        return "no state"
    if state not in STATES:
        return f"unknown state {raw.get('state')!r}"
    if not str(raw.get("city") or "").strip():
        return "no city"
    try:
        zip_validator(zip_text(raw.get("zip")))
    except ValidationError:
        return f"ZIP code {raw.get('zip')!r} is not a 5-digit ZIP"
    services = raw.get("services")
    if services is not None and not isinstance(services, list):
        return "services is not a list"
    return None


# --- Deriving a listing's values from its rows ------------------------------------


def _sort_rows(rows):
    def order(row):
        return (
            str(row.get("typeFacility") or ""),
            str(row.get("frid") or ""),
            normalize_label(row.get("name2")),
            json.dumps(row, sort_keys=True, default=str),
        )

    return sorted(rows, key=order)


def _comparable(rows):
    return [{k: v for k, v in row.items() if k not in VOLATILE_ROW_KEYS} for row in rows]


def _text(value, limit):
    return str(value or "").strip()[:limit]


def _phone(value, where, warnings, what):
    value = _text(value, 40)
    if not value:
        return ""
    try:
        phone_validator(value)
    except ValidationError:
        warnings.append(f"{where}: {what} {value!r} is not a phone number; left blank")
        return ""
    return value


def _website(value, where, warnings):
    value = _text(value, 300)
    if not value:
        return ""
    if not re.match(r"^https?://", value, re.IGNORECASE):
        value = f"http://{value}"
    try:
        _url_validator(value)
    except ValidationError:
        warnings.append(f"{where}: website {value!r} is not a web address; left blank")
        return ""
    return value


def _coordinates(row):
    try:
        lat, lng = float(row.get("latitude")), float(row.get("longitude"))
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return lat, lng


def row_kind(row):
    """The service line a row describes: its typeFacility, "SA" or "MH". A row without one
    (older exports) or with another value is taken as substance use, the locator's default."""
    kind = str(row.get("typeFacility") or "").strip().upper()
    return kind if kind in ServiceLine.Kind.values else ServiceLine.Kind.SUBSTANCE_USE


@dataclass
class Derived:
    values: dict  # scalar field -> value (ownership as a Term or None)
    location: tuple  # (latitude, longitude, approximate)
    lines: dict  # line kind -> {field -> set of term ids}


def derive(rows, vocabulary, where="", warnings=None):
    """The listing a group of rows describes (rows already sorted)."""
    warnings = [] if warnings is None else warnings
    first = rows[0]
    program_names = []
    for row in rows:
        name2 = _text(row.get("name2"), 200)
        if name2 and name2 not in program_names:
            program_names.append(name2)

    def first_value(key):
        return next((row.get(key) for row in rows if str(row.get(key) or "").strip()), "")

    values = {
        "name": _text(first.get("name1"), 200),
        "program_name": " / ".join(program_names)[:200],
        "street1": _text(first.get("street1"), 200),
        "street2": _text(first.get("street2"), 200),
        "city": _text(first.get("city"), 100),
        "state": _text(first.get("state"), 2).upper(),
        "zip": zip_text(first.get("zip"))[:10],
        "phone": _phone(first_value("phone"), where, warnings, "phone"),
        "intake_phone": _phone(first_value("intake1"), where, warnings, "intake phone"),
        "hotline": _phone(first_value("hotline1"), where, warnings, "hotline"),
        "website": _website(first_value("website"), where, warnings),
        "ownership": None,
        "co_occurring": False,
    }
    lines = {}
    owners = []
    for row in rows:
        m2m = lines.setdefault(row_kind(row), {name: set() for name in M2M_FIELDS})
        for service in row.get("services") or []:
            if not isinstance(service, dict):
                continue
            for label in split_labels(service.get("f3")):
                for target in vocabulary.resolve(service.get("f2"), label) or []:
                    if isinstance(target, str):
                        values[target] = True
                    elif target.group == vocab.OWNERSHIP:
                        owners.append(target)
                    else:
                        m2m[GROUP_FIELDS[target.group]].add(target.pk)
    if owners:
        # The most specific wins: "Department of Veterans Affairs" over "Federal Government".
        values["ownership"] = next((t for t in owners if t.parent_id), owners[0])

    point = next((p for p in map(_coordinates, rows) if p), None)
    if point:
        location = (point[0], point[1], False)
    elif centroid := zip_centroid(values["zip"]):
        location = (centroid[0], centroid[1], True)
    else:
        location = (None, None, False)
    return Derived(values, location, lines)


def _display(value):
    if isinstance(value, Term):
        return value.code
    if isinstance(value, set | list):
        return sorted(value)
    return value


# --- The import ---------------------------------------------------------------------


class _DryRunRollback(Exception):
    pass


def _linked_term_ids(lines):
    """{line id: {field: {term id, ...}}} of these lines' vocabularies, in one query."""
    links = {line.pk: {name: set() for name in M2M_FIELDS} for line in lines}
    for field_name, line_id, term_id in listing_rows.links(list(links), M2M_FIELDS):
        links[line_id][field_name].add(term_id)
    return links


def _add_links(line, ids_by_field):
    """Link a new line to its terms, without reading first (it has none yet)."""
    for name, ids in ids_by_field.items():
        if ids:
            field_ = ServiceLine._meta.get_field(name)
            through = field_.remote_field.through
            through.objects.bulk_create(
                through(**{f"{field_.m2m_field_name()}_id": line.pk,
                           f"{field_.m2m_reverse_field_name()}_id": term_id})
                for term_id in sorted(ids)
            )  # fmt: skip


def _new_line(facility, kind, ids_by_field):
    """A new service line with its terms, in one history entry."""
    line = ServiceLine(facility=facility, kind=kind)
    with single_history_entry(line, reason=HISTORY_REASON):
        line.save()
        _add_links(line, ids_by_field)
    return line


def _validate(facility):
    """The model's field validators and clean(); the database enforces the constraints."""
    facility.clean_fields(exclude=["slug", "ownership", "verified_by"])
    facility.clean()


class MatchIndex:
    """Who is who: frid, creation key and current key -> listing id, loaded once per run."""

    def __init__(self):
        self.by_frid, self.by_source_key, self.by_current_key = {}, {}, {}
        listings = Facility.objects.exclude(source__in=Facility.FICTIONAL_SOURCES).values_list(
            "pk", "source", "source_key", "name", "street1", "city", "state", "zip"
        )
        for pk, source, source_key, name, street1, city, state, zip_code in listings:
            key = stable_key(name, street1, city, state, zip_code)
            is_import = source == Facility.Source.FINDTREATMENT
            if is_import or key not in self.by_current_key:
                self.by_current_key[key] = pk
            if is_import and source_key:
                self.by_source_key[source_key] = pk
        frid_rows = Facility.objects.filter(source=Facility.Source.FINDTREATMENT).values_list(
            "pk", "source_record__frids"
        )
        for pk, frids in frid_rows:
            for frid in frids if isinstance(frids, list) else []:
                self.by_frid[str(frid)] = pk

    def find(self, frids, key):
        """The listing these rows describe: by frid first, else by name and address."""
        by_frid, by_key = self.matches(frids, key)
        return by_frid or by_key

    def matches(self, frids, key):
        """(the listing a frid names, the listing the name and address name), or None each."""
        by_frid = next((self.by_frid[frid] for frid in frids if frid in self.by_frid), None)
        return by_frid, self.by_source_key.get(key) or self.by_current_key.get(key)

    def add(self, facility, frids):
        for frid in frids:
            self.by_frid[frid] = facility.pk
        self.by_source_key[facility.source_key] = facility.pk
        self.by_current_key[facility_key(facility)] = facility.pk


class FindTreatmentImporter:
    """`FindTreatmentImporter(publish=True).run([(name, content)], dry_run=False)`."""

    def __init__(
        self, publish=False, progress=None, progress_every=500, mapping=None, batch_size=100
    ):
        self.publish = publish
        self.progress = progress or (lambda message: None)
        self.progress_every = progress_every
        self.batch_size = batch_size
        self.mapping = mapping or Mapping.load()

    def run(self, sources, dry_run=False, problems=()):
        report = ImportReport(dry_run=dry_run)
        for where, reason in problems:
            report.reject(where, reason)
        groups = self._without_conflicts(self._read(sources, report), report)
        if not dry_run:
            self._import(groups, report)  # one transaction per listing
            return report
        try:
            with transaction.atomic():  # the same code, then everything undone
                self._import(groups, report)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        return report

    def _read(self, sources, report):
        """Parse every page; good rows grouped by stable key, in order of appearance."""
        groups = {}
        for name, content in sources:
            report.files += 1
            page, error = parse_page(name, content)
            if error:
                report.reject(name, error)
                continue
            own_export = page.get("exporter") == EXPORTER
            for number, raw in enumerate(page["rows"], start=1):
                report.rows += 1
                reason = _check_row(raw)
                if reason:
                    report.reject(f"{name} row {number}", reason)
                    continue
                key = stable_key(
                    raw.get("name1"), raw.get("street1"), raw.get("city"), raw.get("state"),
                    raw.get("zip"),
                )  # fmt: skip
                row = SourceRow(name, number, raw, key, own_export)
                groups.setdefault(key, []).append(row)
        return list(groups.values())

    def _without_conflicts(self, groups, report):
        """The groups of rows to import. Places (different names or addresses) that share a
        frid in this import are conflicts: each is reported and neither is imported, so no
        place is ever saved over another."""
        places_of_frid = defaultdict(set)
        for rows in groups:
            for row in rows:
                for frid in row.frids:
                    places_of_frid[frid].add(rows[0].key)
        shared = {frid for frid, places in places_of_frid.items() if len(places) > 1}
        if not shared:
            return groups
        where_of_frid = defaultdict(list)
        for rows in groups:
            for frid in {frid for row in rows for frid in row.frids} & shared:
                where_of_frid[frid].extend(row.where for row in rows)
        kept = []
        for rows in groups:
            conflicts = sorted({frid for row in rows for frid in row.frids} & shared)
            if not conflicts:
                kept.append(rows)
                continue
            mine = {row.where for row in rows}
            others = sorted({where for frid in conflicts for where in where_of_frid[frid]} - mine)
            report.reject(
                ", ".join(row.where for row in rows),
                f"conflict: frid {conflicts[0]} also names another place ({'; '.join(others)}); "
                "neither is imported",
            )
        return kept

    def _count_labels(self, rows, vocabulary, report):
        for row in rows:
            for service in row.raw.get("services") or []:
                if not isinstance(service, dict):
                    report.warnings.append(f"{row.where}: a service entry is not an object")
                    continue
                category = str(service.get("f2") or "").strip().upper()
                for label in split_labels(service.get("f3")):
                    targets = vocabulary.resolve(category, label)
                    if targets is None:
                        report.unmapped[(category, label)] += 1
                        seen = report.unmapped_where.setdefault((category, label), [])
                        if len(seen) < 3:
                            seen.append(row.where)
                    elif targets:
                        report.mapped_labels[(category, label)] += 1
                    else:
                        report.ignored_labels[(category, label)] += 1

    def _import(self, groups, report):
        vocabulary = Vocabulary(self.mapping)
        for target in vocabulary.missing_targets:
            report.warnings.append(f"mapping target {target} is not in the vocabulary")
        index = MatchIndex()
        done = 0
        for start in range(0, len(groups), self.batch_size):
            # A commit per batch (committing each listing costs more than writing it), a
            # savepoint per listing: a bad listing is undone alone, an interrupted run
            # leaves whole listings only, and running it again finishes the job.
            with transaction.atomic():
                for rows in groups[start : start + self.batch_size]:
                    self._count_labels(rows, vocabulary, report)
                    report.listings += 1
                    try:
                        with transaction.atomic():
                            self._import_group(rows, vocabulary, index, report)
                    except (ValidationError, DatabaseError) as error:
                        reason = "; ".join(getattr(error, "messages", None) or [str(error)])
                        where = ", ".join(row.where for row in rows)
                        report.reject(where, f"not saved: {reason}")
                    except Exception as error:  # noqa: BLE001
                        # Rows are checked before this (_check_row); anything that still
                        # goes wrong loses this listing only, never the run or its report.
                        logger.exception("import of %s failed", rows[0].where)
                        where = ", ".join(row.where for row in rows)
                        report.reject(where, f"not saved: {type(error).__name__}")
                    done += 1
                    if done % self.progress_every == 0 or done == len(groups):
                        self.progress(f"{done}/{len(groups)} listings processed")

    def _import_group(self, rows, vocabulary, index, report):
        frids = sorted({frid for row in rows for frid in row.frids})
        where = ", ".join(row.where for row in rows)
        by_frid, by_key = index.matches(frids, rows[0].key)
        if by_frid and by_key and by_frid != by_key:
            # The frid says one listing, the name and address another: updating either
            # could write one place's facts over the other's.
            listings = Facility.objects.filter(pk__in=[by_frid, by_key])
            names = dict(listings.values_list("pk", "slug"))
            report.reject(
                where,
                f"conflict: its frid belongs to the listing {names.get(by_frid)} but its name "
                f"and address to {names.get(by_key)}; neither is changed",
            )
            return
        pk = by_frid or by_key
        facility = Facility.objects.filter(pk=pk).first() if pk else None
        if facility is None:
            self._create(rows, frids, vocabulary, index, report, where)
        elif facility.source != Facility.Source.FINDTREATMENT:
            report.skipped.append(
                (where, f"same place as the listing “{facility}” ({facility.slug}) "
                        f"entered by hand ({facility.get_source_display()}); not imported")
            )  # fmt: skip
        else:
            self._update(facility, rows, frids, vocabulary, index, report, where)

    def _record(self, raw_rows, frids):
        return {"frids": frids, "rows": _sort_rows(raw_rows)}

    def _create(self, rows, frids, vocabulary, index, report, where):
        raw_rows = _sort_rows([row.raw for row in rows])
        derived = derive(raw_rows, vocabulary, where, report.warnings)
        facility = Facility(
            source=Facility.Source.FINDTREATMENT,
            source_key=rows[0].key,
            source_record=self._record(raw_rows, frids),
            status=Facility.Status.PUBLISHED if self.publish else Facility.Status.DRAFT,
            **derived.values,
        )
        facility.latitude, facility.longitude, facility.location_approximate = derived.location
        _validate(facility)
        # One history entry for the listing and all its terms (not one per field).
        with single_history_entry(facility, reason=HISTORY_REASON):
            facility.save()
        for kind, ids_by_field in sorted(derived.lines.items(), reverse=True):  # SA first
            _new_line(facility, kind, ids_by_field)
        index.add(facility, frids)
        report.created.append(f"{facility} ({facility.slug})")

    def _update(self, facility, rows, frids, vocabulary, index, report, where):
        record = facility.source_record if isinstance(facility.source_record, dict) else {}
        old_rows = [row for row in record.get("rows") or [] if isinstance(row, dict)]
        old_frids = [str(frid) for frid in record.get("frids") or []]
        incoming = _sort_rows([row.raw for row in rows])
        if all(row.own_export for row in rows):
            # Our own export describes the listing as it is now; the audit record stays.
            new_record, derive_from = record, incoming
        else:
            # A newer SA row replaces the old SA row; the MH row stays (and vice versa).
            kinds = {row_kind(row) for row in incoming}
            kept = [row for row in old_rows if row_kind(row) not in kinds]
            derive_from = _sort_rows(kept + incoming)
            new_frids = sorted(set(old_frids) | set(frids))
            new_record = self._record(derive_from, new_frids)
            same_rows = _comparable(_sort_rows(old_rows)) == _comparable(derive_from)
            if same_rows and new_frids == sorted(old_frids):
                new_record = record

        derived = derive(derive_from, vocabulary, where, report.warnings)
        curated = set(facility.curated_fields or [])
        name = f"{facility} ({facility.slug})"
        changed = []

        def consider(field_name, current, incoming_value, protected):
            current, incoming_value = _display(current), _display(incoming_value)
            if current == incoming_value:
                return False
            if protected:
                report.curated_kept.append((name, field_name, current, incoming_value))
                return False
            changed.append(field_name)
            return True

        for field_name, value in derived.values.items():
            if consider(field_name, getattr(facility, field_name), value, field_name in curated):
                setattr(facility, field_name, value)

        latitude, longitude, approximate = derived.location
        current_location = (facility.latitude, facility.longitude, facility.location_approximate)
        # A row without coordinates never replaces a building's position with a ZIP centre.
        keeps_precise = (
            approximate and facility.latitude is not None and not facility.location_approximate
        )
        location_curated = bool(curated & set(LOCATION_FIELDS))
        if not keeps_precise and consider(
            "location", current_location, derived.location, location_curated
        ):
            facility.latitude, facility.longitude = latitude, longitude
            facility.location_approximate = approximate

        lines = {line.kind: line for line in facility.lines.all()}
        linked = _linked_term_ids(lines.values())
        new_lines, line_changes = {}, {}  # kind -> {field: ids}
        for kind, ids_by_field in sorted(derived.lines.items(), reverse=True):
            line = lines.get(kind)
            if line is None:
                new_lines[kind] = ids_by_field
                changed.append(f"{kind} line")
                continue
            line_curated = set(line.curated_fields or [])
            for field_name, ids in ids_by_field.items():
                current_ids = linked[line.pk][field_name]
                current_codes = {vocabulary.code_of.get(pk, str(pk)) for pk in current_ids}
                new_codes = {vocabulary.code_of[pk] for pk in ids}
                if current_ids != ids and consider(
                    f"{kind} {field_name}", current_codes, new_codes, field_name in line_curated
                ):
                    line_changes.setdefault(kind, {})[field_name] = ids

        if new_record is not record:
            facility.source_record = new_record
            changed.append("source_record")
        if not changed:
            report.unchanged.append(name)
            return
        _validate(facility)
        with single_history_entry(facility, reason=HISTORY_REASON):
            facility.save()
        for kind, ids_by_field in new_lines.items():
            _new_line(facility, kind, ids_by_field)
        for kind, ids_by_field in line_changes.items():
            line = lines[kind]
            with single_history_entry(line, reason=HISTORY_REASON):
                line.save()
                for field_name, ids in ids_by_field.items():
                    getattr(line, field_name).set(ids)
        index.add(facility, frids)
        report.updated.append((name, changed))


def import_paths(paths, publish=False, dry_run=False, progress=None):
    """The shell entry point: files and folders in, a report out."""
    sources, problems = read_paths(paths)
    importer = FindTreatmentImporter(publish=publish, progress=progress)
    return importer.run(sources, dry_run=dry_run, problems=problems)


# --- The export ---------------------------------------------------------------------


class LabelChooser:
    """Which label to write for a term so that importing it gives back exactly that term."""

    def __init__(self, mapping):
        self.mapping = mapping
        self.by_target = defaultdict(list)  # Target -> [(category, label, frozenset targets)]
        grouped = defaultdict(list)
        for row in mapping.rows:
            if row.label != ANY_LABEL and row.target.group != IGNORE:
                grouped[(row.category, row.label)].append(row.target)
        for (category, label), targets in grouped.items():
            for target in targets:
                self.by_target[target].append((category, label, frozenset(targets)))
        self.wildcard_category = {}
        for row in mapping.rows:
            if row.label == ANY_LABEL:
                self.wildcard_category.setdefault(row.target.group, row.category)

    def labels(self, facility_targets, term_labels):
        """{category: [label, ...]} covering every target, never implying one not present."""
        chosen = defaultdict(list)
        for target in sorted(facility_targets, key=lambda t: (t.group, t.code)):
            candidates = [
                (len(targets), category, label)
                for category, label, targets in self.by_target.get(target, [])
                if targets <= facility_targets
            ]
            if candidates:
                _, category, label = min(candidates, key=lambda c: c[0])
            elif target.group in self.wildcard_category:
                category, label = self.wildcard_category[target.group], term_labels[target]
            else:
                continue
            if label not in chosen[category]:
                chosen[category].append(label)
        return chosen


def _export_row(number, facility, line, chooser):
    """The FindTreatment row of one service line of a listing (typeFacility its kind)."""
    targets, term_labels = set(), {}
    if facility.ownership_id:
        target = Target(vocab.OWNERSHIP, facility.ownership.code)
        targets.add(target)
        term_labels[target] = facility.ownership.label
    if facility.co_occurring:
        targets.add(Target(FLAG, "co_occurring"))
    for field_name in M2M_FIELDS:
        for term in listing_rows.terms_of(line, field_name):
            target = Target(term.group, term.code)
            targets.add(target)
            term_labels[target] = term.label
    chosen = chooser.labels(targets, term_labels)
    order = {code: position for position, code in enumerate(EXPORT_CATEGORIES)}
    services = [
        {"f1": CATEGORY_LABELS.get(category, category), "f2": category, "f3": "; ".join(labels)}
        for category, labels in sorted(chosen.items(), key=lambda c: order.get(c[0], 99))
    ]
    record = facility.source_record if isinstance(facility.source_record, dict) else {}
    frids = [str(frid) for frid in record.get("frids") or []]
    own_frid = next((str(row["frid"]) for row in line.source_rows if row.get("frid")), None)
    precise = facility.latitude is not None and not facility.location_approximate
    return {
        "_irow": number,
        "frid": own_frid or (frids[0] if frids else None),
        "frids": frids,
        "name1": facility.name,
        "name2": facility.program_name,
        "street1": facility.street1,
        "street2": facility.street2,
        "city": facility.city,
        "state": facility.state,
        "zip": facility.zip,
        "phone": facility.phone,
        "intake1": facility.intake_phone or None,
        "hotline1": facility.hotline or None,
        "website": facility.website,
        # ZIP-centre coordinates are not the building's: left out, as the source would.
        "latitude": str(facility.latitude) if precise else None,
        "longitude": str(facility.longitude) if precise else None,
        "miles": None,
        "typeFacility": line.kind,
        "services": services,
    }


def _no_line(facility):
    """A listing without service lines (entered by hand, not yet described) still has a row:
    its place, with no services, so importing the export finds it again."""
    line = ServiceLine(facility=facility, kind=ServiceLine.Kind.SUBSTANCE_USE)
    line._prefetched_objects_cache = {name: [] for name in M2M_FIELDS}
    return line


def export_page(queryset, mapping=None):
    """One export page (the FindTreatment format) for the listings in `queryset`: a row per
    service line, as FindTreatment.gov lists a place once per program."""
    chooser = LabelChooser(mapping or Mapping.load())
    facilities = listing_rows.read_models(queryset.select_related("ownership").order_by("pk"))
    lines = [
        (facility, line)
        for facility in facilities
        for line in facility.service_lines or [_no_line(facility)]
    ]
    rows = [
        _export_row(number, facility, line, chooser)
        for number, (facility, line) in enumerate(lines, start=1)
    ]
    return {
        "page": 1,
        "totalPages": 1,
        "recordCount": len(rows),
        "exporter": EXPORTER,
        "rows": rows,
    }
