"""What a facility page shows of its service lines.

A place may list two programs, substance use and mental health treatment, whose care,
payment and populations differ (FindTreatment.gov lists it once per program). For each
topic of the page (levels of care, payment, who it serves, treatment, licensing) the page
shows one list when every line says the same, and one group per line, under the
program's name, when they differ: a fact of one program is never shown as the other's.
The IOP schedule is the line's that offers IOP, and says so when there are two lines.

Reads only what rows.read_models attached to the facility: no query.
"""

from dataclasses import dataclass

from . import rows

# Each topic's vocabularies, in page order, with the heading of each list.
TOPICS = {
    "levels": [("levels_of_care", "Levels of care")],
    "payment": [("payment_options", "Payment accepted"), ("payment_assistance", "Help paying")],
    "serves": [
        ("populations", "Programs for"),
        ("age_groups", "Ages"),
        ("genders", "Accepts"),
        ("languages", "Languages"),
    ],
    "treatment": [
        ("conditions", "Conditions treated"),
        ("approaches", "Treatment approaches"),
        ("medications", "Medications"),
        ("therapies", "Holistic and other therapies"),
        ("services", "Services"),
    ],
    "licensing": [("accreditations", "Licensed or accredited by")],
}


@dataclass(frozen=True)
class TermList:
    heading: str
    terms: list


@dataclass(frozen=True)
class Group:
    """The lists of a topic for one program, or for all of them (program "")."""

    program: str
    lists: list  # the TermLists with terms; empty when the source lists nothing


@dataclass(frozen=True)
class Topic:
    groups: list
    by_line: bool  # the lines differ: one group per line


@dataclass(frozen=True)
class Lines:
    """A facility page's view of the place's lines."""

    topics: dict  # TOPICS name -> Topic
    programs: list  # the lines' names ("Substance use treatment"...), in page order
    schedule: object  # the IOP schedule's values: a ServiceLine, or the flat values
    schedule_program: str  # the name of the line the schedule belongs to; "" with one line

    @property
    def differ(self):
        """The lines differ in some topic: the page says the place has several programs."""
        return any(topic.by_line for topic in self.topics.values())


def _codes(line, field_name):
    return [term.pk for term in rows.terms_of(line, field_name)]


def _topic(lines, fields, offered):
    same = all(
        _codes(line, name) == _codes(lines[0], name) for line in lines[1:] for name, _ in fields
    )
    if same:
        # One list for every line (or a listing without lines): the union is each line's.
        return Topic(
            [Group("", [TermList(h, offered[name]) for name, h in fields if offered[name]])],
            by_line=False,
        )
    groups = [
        Group(
            line.get_kind_display(),
            [
                TermList(heading, list(rows.terms_of(line, name)))
                for name, heading in fields
                if rows.terms_of(line, name)
            ],
        )
        for line in lines
    ]
    return Topic(groups, by_line=True)


def _offers_iop(line):
    return any(term.code == rows.IOP_CODE for term in rows.terms_of(line, "levels_of_care"))


def lines_of(facility):
    """What the page shows of `facility`'s lines (facility from rows.read_models)."""
    lines = facility.service_lines
    offered = facility.offered
    # As rows.schedule_line: the line offering IOP, else the first.
    schedule_line = next((line for line in lines if _offers_iop(line)), None)
    schedule_line = schedule_line or (lines[0] if lines else None)
    return Lines(
        topics={name: _topic(lines, fields, offered) for name, fields in TOPICS.items()},
        programs=[line.get_kind_display() for line in lines],
        # The line's own values: its virtual sessions, not any line's (the flat rows').
        schedule=schedule_line if schedule_line is not None else offered,
        schedule_program=schedule_line.get_kind_display() if len(lines) > 1 else "",
    )
