"""Fictional facility listings with realistic distributions, for benchmarks and demos.

A listing is a place with one or more service lines (models.ServiceLine): every
listing has a substance use (SA) line, and some also a mental health (MH) line
with its own levels of care, payment and populations, as FindTreatment.gov
lists such places twice. The place and its SA line are drawn from one
`random.Random(seed)`, so the same seed, states and date give the same
listings; each MH line is drawn from a stream of its own, seeded from the seed
and the listing's number, so that adding MH lines left every place and SA line
(and the benchmark data made of them) exactly as they were.

Every listing is visibly fictional: names say "Example" or "Sample", phones
are 555-01xx (the range reserved for fiction), websites and emails are on
example.org, and the description says the facility does not exist.

The shares below follow the shape of SAMHSA's facility survey (N-SUMHSS)
closely enough for search, summaries and benchmarks to behave as they would
on real data; they are not statistics.
"""

import datetime
import random
from bisect import bisect
from functools import lru_cache
from itertools import accumulate

import zipcodes
from django.utils.text import slugify

from . import geo
from . import vocabulary as vocab
from .text import normalize_city

# 2020 census resident population (April 1, 2020), the weight of each state.
STATE_POPULATIONS_2020 = {
    "AL": 5024279, "AK": 733391, "AZ": 7151502, "AR": 3011524, "CA": 39538223,
    "CO": 5773714, "CT": 3605944, "DE": 989948, "DC": 689545, "FL": 21538187,
    "GA": 10711908, "HI": 1455271, "ID": 1839106, "IL": 12812508, "IN": 6785528,
    "IA": 3190369, "KS": 2937880, "KY": 4505836, "LA": 4657757, "ME": 1362359,
    "MD": 6177224, "MA": 7029917, "MI": 10077331, "MN": 5706494, "MS": 2961279,
    "MO": 6154913, "MT": 1084225, "NE": 1961504, "NV": 3104614, "NH": 1377529,
    "NJ": 9288994, "NM": 2117522, "NY": 20201249, "NC": 10439388, "ND": 779094,
    "OH": 11799448, "OK": 3959353, "OR": 4237256, "PA": 13002700, "RI": 1097379,
    "SC": 5118425, "SD": 886667, "TN": 6910840, "TX": 29145505, "UT": 3271616,
    "VT": 643077, "VA": 8631393, "WA": 7705281, "WV": 1793716, "WI": 5893718,
    "WY": 576851, "PR": 3285874,
}  # fmt: skip

# The many-to-many fields of a service line and the vocabulary each one draws on.
# Many-to-many field -> vocabulary group (vocabulary.py's one map).
TERM_FIELDS = vocab.TERM_FIELD_GROUPS

OWNERSHIP_WEIGHTS = {
    "PVTP": 45, "PVTN": 35, "LCCG": 9, "STG": 3, "FED": 2,
    "VAMC": 3, "DDF": 1, "IH": 1, "TBG": 1,
}  # fmt: skip
FEDERAL = {"FED", "VAMC", "DDF", "IH"}
PUBLIC = FEDERAL | {"STG", "LCCG", "TBG"}

# Independent chances; (code, probability).
PAYMENT_SHARES = [
    ("PI", 0.70), ("MD", 0.65), ("MC", 0.45), ("MI", 0.45), ("SF", 0.90),
    ("SI", 0.30), ("GF", 0.30), ("ITU", 0.05), ("NP", 0.03),
]  # fmt: skip
ASSISTANCE_SHARES = [("SS", 0.45), ("PA", 0.35)]
POPULATION_SHARES = [
    ("AD", 0.22), ("TAY", 0.30), ("WN", 0.40), ("PW", 0.20), ("MN", 0.38),
    ("SE", 0.25), ("GL", 0.25), ("VET", 0.25), ("ADM", 0.08), ("MF", 0.10),
    ("CJ", 0.35), ("DUI", 0.20), ("SMI", 0.15), ("HV", 0.10), ("XA", 0.15),
    ("DV", 0.18), ("TRMA", 0.35), ("PTSD", 0.20), ("TBI", 0.05), ("ALZ", 0.02),
    ("SED", 0.06), ("EDP", 0.04),
]  # fmt: skip
# OIT is drawn separately (iop_share); at least one level is always offered.
LEVEL_SHARES = [
    ("ORT", 0.75), ("ODT", 0.15), ("OMB", 0.20), ("OD", 0.08), ("TELE", 0.45),
    ("RD", 0.04), ("RS", 0.06), ("RL", 0.05), ("HID", 0.02), ("HIT", 0.02),
]  # fmt: skip
LANGUAGE_SHARES = [
    ("SP", 0.30), ("AH", 0.10), ("ZH", 0.02), ("VI", 0.02), ("KO", 0.01), ("AR", 0.01),
    ("RU", 0.01), ("FR", 0.02), ("HT", 0.01), ("TL", 0.01), ("NAV", 0.01), ("OTH", 0.03),
]  # fmt: skip
APPROACH_SHARES = [
    ("CBT", 0.90), ("DBT", 0.45), ("MI", 0.80), ("CM", 0.35), ("MXM", 0.20),
    ("TSF", 0.50), ("TRC", 0.60), ("REL", 0.85), ("ANG", 0.40), ("BRI", 0.45),
    ("SAC", 0.90), ("CRV", 0.05), ("IPT", 0.20), ("FAM", 0.50), ("GRP", 0.85),
    ("IND", 0.85), ("CPL", 0.15), ("EMDR", 0.15),
]  # fmt: skip
THERAPY_SHARES = [
    ("ART", 0.20), ("MUS", 0.12), ("DAN", 0.03), ("DRA", 0.03), ("YOGA", 0.20),
    ("MED", 0.35), ("TAI", 0.03), ("BRE", 0.10), ("ACU", 0.05), ("MAS", 0.03),
    ("BIO", 0.03), ("SND", 0.02), ("EQU", 0.03), ("NAT", 0.05), ("NUT", 0.15),
    ("FIT", 0.15),
]  # fmt: skip
SUBSTANCE_SHARES = [("ALC", 0.92), ("OPI", 0.80), ("STIM", 0.70), ("RX", 0.70), ("CAN", 0.65)]
MENTAL_HEALTH_SHARES = [
    ("DEP", 0.85), ("ANX", 0.80), ("PTSD", 0.45), ("BIP", 0.30), ("PERS", 0.15),
    ("OCD", 0.10), ("PHOB", 0.08), ("EAT", 0.05),
]  # fmt: skip
SERVICE_SHARES = [
    ("ASMT", 0.95), ("GRPC", 0.90), ("INDC", 0.90), ("FAMC", 0.60), ("CPLC", 0.20),
    ("CSM", 0.65), ("PSED", 0.75), ("AFT", 0.85), ("DRUG", 0.80), ("MHS", 0.50),
    ("VOC", 0.25), ("HOU", 0.10), ("CHC", 0.04), ("PRS", 0.40),
]  # fmt: skip
ACCREDITATION_SHARES = [
    ("SSA", 0.70), ("SMHA", 0.35), ("SDH", 0.30), ("HLA", 0.05), ("JC", 0.25),
    ("CARF", 0.30), ("NCQA", 0.05), ("COA", 0.04), ("HFAP", 0.02),
]  # fmt: skip
SESSION_MINUTES = [120, 150, 180, 180, 180, 210, 240]

# The mental health line: chance of one (by the place's co-occurring flag; a place may
# run the two programs side by side without treating both disorders together), and
# what it offers. Ages, genders, languages and payment assistance are the SA line's.
MH_LINE_SHARE = {True: 1 / 3, False: 0.10}
MH_IOP_SHARE = 0.15
# Medicaid is added or dropped on every MH line: the case issue 12 is about (an IOP
# paid for yourself beside outpatient care on Medicaid) must be common in the data.
MH_PAYMENT_TOGGLES = [("MC", 0.25), ("PI", 0.10)]
MH_POPULATION_SHARES = [("SMI", 0.40), ("TRMA", 0.30), ("PTSD", 0.20)]
MH_APPROACH_SHARES = [
    ("CBT", 0.90), ("DBT", 0.50), ("IPT", 0.30), ("TRC", 0.45), ("EMDR", 0.20),
    ("FAM", 0.40), ("GRP", 0.70), ("IND", 0.90),
]  # fmt: skip
MH_SERVICE_SHARES = [
    ("ASMT", 0.95), ("INDC", 0.90), ("GRPC", 0.60), ("FAMC", 0.40), ("CSM", 0.60),
    ("PSY", 0.70), ("PSED", 0.50), ("PRS", 0.20),
]  # fmt: skip
# Populations that describe substance use programs only.
SA_ONLY_POPULATIONS = {"DUI"}
# Accreditations of the whole place rather than of one program.
PLACE_ACCREDITATIONS = {"JC", "CARF", "NCQA", "COA", "HFAP", "HLA"}

NAME_WORDS = [
    "New Horizons", "Harbor", "Crossroads", "Bridgeway", "Pathways", "Cedar", "Magnolia",
    "Riverbend", "Summit", "Lighthouse", "Turning Point", "Fresh Start", "Open Door",
    "Northstar", "Willow", "Hope", "Oak Grove", "Clear Water", "Cornerstone", "Meadow",
]  # fmt: skip
NAME_TEMPLATES = {
    "PVTP": [
        "Example Recovery Center of {city}", "Sample Counseling Services",
        "Example {word} Recovery", "{city} Sample Behavioral Health",
        "Example {word} Treatment Center", "Sample {word} Wellness",
    ],
    "PVTN": [
        "Example Community Counseling of {city}", "Sample {word} Recovery Alliance",
        "{city} Example Family Services", "Example {word} House",
    ],
    "LCCG": [
        "{county} Example Community Mental Health Center",
        "Sample {county} Behavioral Health Services",
    ],
    "STG": ["Example State Recovery Program, {city}", "Sample State Behavioral Health Clinic"],
    "FED": ["Example Federal Health Center, {city}"],
    "VAMC": ["Example VA Clinic, {city}"],
    "DDF": ["Example Military Behavioral Health, {city}"],
    "IH": ["Example Indian Health Clinic, {city}"],
    "TBG": ["Example Tribal Wellness Center", "Sample Tribal Recovery Services"],
}  # fmt: skip
IOP_PROGRAM_NAMES = [
    "Intensive Outpatient Program", "Adult IOP", "Evening IOP", "Co-occurring IOP",
    "Women's IOP", "Virtual IOP",
]  # fmt: skip
STREET_KINDS = ["Street", "Avenue", "Road", "Boulevard", "Drive", "Parkway", "Lane"]


def _pick_shares(rng, shares):
    return [code for code, share in shares if rng.random() < share]


@lru_cache(maxsize=1)
def _state_cities():
    """state -> (cities, cumulative weights); a city is (name, county, area code, zips).

    Built from STANDARD, active ZIPs (no PO boxes, no single-company ZIPs) with
    the coordinates geo uses, so a generated listing sits where the search
    places its ZIP. A city with n ZIPs weighs n ** 1.5: big cities get more
    listings. (Weighing n put 94% of Mississippi's listings in towns of one
    or two ZIPs and 3% in Jackson; this puts Jackson near 9%, Houston near 22%
    of Texas.)
    """
    points = geo._zip_table()
    cities = {}
    for row in zipcodes.list_all():
        zip_code = row["zip_code"]
        if row["zip_code_type"] != "STANDARD" or not row["active"] or zip_code not in points:
            continue
        lat, lng, city, state = points[zip_code]
        entry = cities.setdefault(
            (state, normalize_city(city)),
            {"name": city, "county": row["county"] or "", "area_codes": {}, "zips": []},
        )
        entry["zips"].append((zip_code, lat, lng))
        for area_code in row["area_codes"] or []:
            entry["area_codes"][area_code] = entry["area_codes"].get(area_code, 0) + 1
    by_state = {}
    for (state, _key), entry in sorted(cities.items()):
        area_codes = entry["area_codes"]
        area_code = max(sorted(area_codes), key=area_codes.get) if area_codes else ""
        city = (entry["name"], entry["county"], area_code, entry["zips"])
        by_state.setdefault(state, []).append(city)
    return {
        state: (rows, list(accumulate(len(city[3]) ** 1.5 for city in rows)))
        for state, rows in by_state.items()
    }


def parse_states(text):
    """'MS:30,VA:20,TX' -> {"MS": 30, "VA": 20, "TX": None}; raises ValueError."""
    spec = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        code, _, count = item.partition(":")
        code = code.strip().upper()
        if code not in STATE_POPULATIONS_2020:
            raise ValueError(f"{code!r} is not a state with ZIP codes to generate in.")
        if count.strip() and (not count.strip().isdigit() or int(count) < 1):
            raise ValueError(f"{item!r}: the count after ':' must be a positive number.")
        spec[code] = int(count) if count.strip() else None
    return spec


def plan_states(rng, count, spec=None):
    """The state of each of `count` listings, in generation order.

    `spec` maps state -> fixed count or None; states without a count (or all
    states if spec is empty) share the rest in proportion to population.
    """
    spec = spec or {}
    fixed = {state: n for state, n in spec.items() if n}
    rest = count - sum(fixed.values())
    if rest < 0:
        raise ValueError(f"The states ask for {sum(fixed.values())} listings, more than {count}.")
    weighted = [state for state, n in spec.items() if not n] or (
        [] if spec else list(STATE_POPULATIONS_2020)
    )
    if rest and not weighted:
        raise ValueError(f"The states add up to {sum(fixed.values())} listings, not {count}.")
    plan = [state for state, n in fixed.items() for _ in range(n)]
    if rest:
        weights = [STATE_POPULATIONS_2020[state] for state in weighted]
        plan += rng.choices(weighted, weights=weights, k=rest)
    rng.shuffle(plan)
    return plan


class Generator:
    """Draws listings one after another from a single seeded random stream."""

    def __init__(self, seed, source, as_of=None, iop_share=0.55, taken_slugs=()):
        self.seed = seed
        self.number = 0  # listings drawn so far: the MH line's stream is seeded from it
        self.rng = random.Random(seed)
        self.source = source
        self.as_of = as_of or datetime.date.today()
        self.iop_share = iop_share
        self.taken = set(taken_slugs)
        self.ownership_codes = list(OWNERSHIP_WEIGHTS)
        self.ownership_cum = list(accumulate(OWNERSHIP_WEIGHTS.values()))
        _state_cities()  # read now, before a caller's gc.freeze() (generate_facilities)

    def listings(self, count, states=None):
        """Yield `count` listings as {"fields": {...}, "ownership": code, "lines": [...]}.

        Each line is {"kind": "SA" or "MH", "fields": {schedule...}, "terms": {field:
        [codes]}}; the SA line comes first and every listing has one.
        """
        for state in plan_states(self.rng, count, states):
            yield self.listing(state)

    def _choose(self, codes, cumulative):
        return codes[bisect(cumulative, self.rng.random() * cumulative[-1])]

    def unique_slug(self, text):
        base = slugify(text)[:200].strip("-") or "facility"
        slug, suffix = base, 2
        while slug in self.taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self.taken.add(slug)
        return slug

    def phone(self, area_code):
        return f"{area_code or '555'}-555-01{self.rng.randrange(100):02d}"

    def listing(self, state):
        rng = self.rng
        self.number += 1
        cities, cumulative = _state_cities()[state]
        city, county, area_code, zips = cities[bisect(cumulative, rng.random() * cumulative[-1])]
        zip_code, lat, lng = rng.choice(zips)
        ownership = self._choose(self.ownership_codes, self.ownership_cum)
        co_occurring = rng.random() < 0.80
        iop = rng.random() < self.iop_share

        name = rng.choice(NAME_TEMPLATES[ownership]).format(
            city=city, county=county or f"{city} County", word=rng.choice(NAME_WORDS)
        )
        program_name = rng.choice(IOP_PROGRAM_NAMES) if iop and rng.random() < 0.6 else ""
        slug = self.unique_slug(f"{name} {program_name} {city} {state}")
        host = slugify(name)[:50].strip("-")

        levels = (["OIT"] if iop else []) + _pick_shares(rng, LEVEL_SHARES)
        if not levels:
            levels = ["ORT"]
        payments = _pick_shares(rng, PAYMENT_SHARES)
        if ownership in FEDERAL - {"IH"} and "MI" not in payments:
            payments.append("MI")  # VA and military clinics take military insurance
        if ownership in {"IH", "TBG"} and "ITU" not in payments:
            payments.append("ITU")
        assistance = _pick_shares(rng, ASSISTANCE_SHARES)
        if ownership in PUBLIC and "SS" not in assistance and rng.random() < 0.5:
            assistance.append("SS")
        populations = _pick_shares(rng, POPULATION_SHARES)
        if co_occurring and rng.random() < 0.55:
            populations.append("CO")
        if ownership in {"VAMC", "DDF"} and "VET" not in populations:
            populations.append("VET")

        ages = _pick_shares(rng, [("YAD", 0.70), ("ADLT", 0.95), ("SNR", 0.55)])
        if "AD" in populations or rng.random() < 0.1:
            ages.insert(0, "CHLD")
        ages = ages or ["ADLT"]
        genders = [code for code in ("FEM", "MALE") if rng.random() < 0.95] or [
            rng.choice(["FEM", "MALE"])
        ]

        medications = []
        if "OMB" in levels or rng.random() < 0.35:
            medications = _pick_shares(
                rng, [("BU", 0.6), ("BWN", 0.5), ("BWON", 0.2), ("BERI", 0.15), ("NU", 0.4)]
            )
            medications += _pick_shares(rng, [("VTRL", 0.35), ("ACM", 0.2), ("DSF", 0.15)])
            if "OMB" in levels and rng.random() < 0.3:
                medications.append("METH")
        if rng.random() < 0.45:
            medications.append("NXN")
        if co_occurring and rng.random() < 0.55:
            medications.append("MPD")

        conditions = _pick_shares(rng, SUBSTANCE_SHARES) or ["ALC"]
        if co_occurring:
            conditions += _pick_shares(rng, MENTAL_HEALTH_SHARES) + ["COD"]
        conditions += _pick_shares(rng, [("GAMB", 0.10), ("BEH", 0.08)])

        transportation = rng.random() < 0.15
        services = _pick_shares(rng, SERVICE_SHARES)
        if co_occurring and rng.random() < 0.6:
            services.append("PSY")
        if transportation:
            services.append("TRAN")
        accreditations = _pick_shares(rng, ACCREDITATION_SHARES)
        if "METH" in medications:
            accreditations.append("SAMHSA")
        if {"METH", "BU", "BWN", "BWON", "BERI"} & set(medications) and rng.random() < 0.7:
            accreditations.append("DEA")

        fields = {
            "name": name,
            "program_name": program_name,
            "slug": slug,
            "street1": f"{rng.randint(100, 9899)} Example {rng.choice(STREET_KINDS)}",
            "street2": f"Suite {rng.randint(1, 4)}{rng.randint(0, 2)}0"
            if rng.random() < 0.3
            else "",
            "city": city,
            "city_key": normalize_city(city),
            "state": state,
            "zip": zip_code,
            "county": county,
            # About a mile of jitter, so listings of one ZIP do not stack on one pin.
            "latitude": round(lat + rng.uniform(-0.015, 0.015), 6),
            "longitude": round(lng + rng.uniform(-0.015, 0.015), 6),
            "location_approximate": False,
            "phone": self.phone(area_code),
            "intake_phone": self.phone(area_code) if rng.random() < 0.4 else "",
            "hotline": self.phone(area_code) if rng.random() < 0.1 else "",
            "website": f"https://{host}.example.org",
            "email": f"{host[:48].strip('-')}@example.org" if rng.random() < 0.6 else "",
            "description": self.description(name, iop, co_occurring),
            "co_occurring": co_occurring,
            "status": rng.choices(["published", "draft", "archived"], [95, 3, 2])[0],
            "verified_at": (
                self.as_of - datetime.timedelta(days=rng.randrange(730))
                if rng.random() < 0.85
                else None
            ),
            "source": self.source,
        }
        schedule = self.schedule(rng, iop, levels, transportation)

        terms = {
            "levels_of_care": levels,
            "payment_options": payments,
            "payment_assistance": assistance,
            "populations": populations,
            "age_groups": ages,
            "genders": genders,
            "languages": _pick_shares(rng, LANGUAGE_SHARES),
            "medications": medications,
            "approaches": _pick_shares(rng, APPROACH_SHARES),
            "therapies": _pick_shares(rng, THERAPY_SHARES),
            "conditions": conditions,
            "services": services,
            "accreditations": accreditations,
        }
        lines = [{"kind": "SA", "fields": schedule, "terms": terms}]
        # Its own stream: whether and what it draws leaves self.rng untouched.
        mh = random.Random(f"{self.seed}:mh:{self.number}")
        if mh.random() < MH_LINE_SHARE[co_occurring]:
            lines.append(self.mental_health_line(mh, terms, co_occurring, transportation))
        return {"fields": fields, "ownership": ownership, "lines": lines}

    def mental_health_line(self, rng, sa, co_occurring, transportation):
        """The place's mental health program, beside its SA line's terms `sa`."""
        iop = rng.random() < MH_IOP_SHARE
        levels = (["OIT"] if iop else []) + (["ORT"] if not iop or rng.random() < 0.7 else [])
        if rng.random() < 0.35:
            levels.append("TELE")
        payments = set(sa["payment_options"]) ^ {"MD"}
        payments ^= {code for code, share in MH_PAYMENT_TOGGLES if rng.random() < share}
        payments = [code for code, _ in PAYMENT_SHARES if code in payments] or ["SF"]
        populations = [code for code in sa["populations"] if code not in SA_ONLY_POPULATIONS]
        populations += [
            code for code in _pick_shares(rng, MH_POPULATION_SHARES) if code not in populations
        ]
        if "CHLD" in sa["age_groups"] and rng.random() < 0.3 and "SED" not in populations:
            populations.append("SED")
        conditions = _pick_shares(rng, MENTAL_HEALTH_SHARES) or ["DEP"]
        if co_occurring:
            conditions.append("COD")
        services = _pick_shares(rng, MH_SERVICE_SHARES)
        if transportation:
            services.append("TRAN")
        accreditations = ["SMHA"] if rng.random() < 0.85 else []
        accreditations += [code for code in sa["accreditations"] if code in PLACE_ACCREDITATIONS]
        schedule = self.schedule(rng, iop, levels, transportation)
        terms = {
            "levels_of_care": levels,
            "payment_options": payments,
            "payment_assistance": list(sa["payment_assistance"]),
            "populations": populations,
            "age_groups": list(sa["age_groups"]),
            "genders": list(sa["genders"]),
            "languages": list(sa["languages"]),
            "medications": ["MPD"] if rng.random() < 0.85 else [],
            "approaches": _pick_shares(rng, MH_APPROACH_SHARES) or ["CBT"],
            "therapies": _pick_shares(rng, THERAPY_SHARES),
            "conditions": conditions,
            "services": services,
            "accreditations": accreditations,
        }
        return {"kind": "MH", "fields": schedule, "terms": terms}

    def schedule(self, rng, iop, levels, transportation):
        """A line's schedule fields: the IOP schedule when it offers IOP, else transport only."""
        if iop:
            return self.iop_schedule(rng, "TELE" in levels, transportation)
        return {"transportation_assistance": transportation}

    def iop_schedule(self, rng, telehealth, transportation):
        low = rng.randint(6, 12)
        daytime = rng.random() < 0.65
        return {
            "hours_per_week_min": low,
            "hours_per_week_max": rng.randint(max(low, 9), 20),
            "sessions_per_week": rng.randint(3, 5),
            "session_length_minutes": rng.choice(SESSION_MINUTES),
            "duration_weeks": rng.randint(6, 16),
            "offers_daytime": daytime,
            "offers_evening": rng.random() < 0.55 or not daytime,
            "offers_weekend": rng.random() < 0.10,
            "offers_virtual": telehealth or rng.random() < 0.25,
            "transportation_assistance": transportation,
        }

    def description(self, name, iop, co_occurring):
        kind = "demo data" if self.source == "demo" else "generated data"
        offer = "an intensive outpatient program" if iop else "outpatient treatment"
        extra = " for substance use and mental health together" if co_occurring else ""
        return (
            f"Fictional listing ({kind}): {name} does not exist and its phone numbers, "
            f"address and website are made up. Shown as {offer}{extra} to demonstrate "
            "IOP Finder."
        )
