"""manage.py export_findtreatment [--state XX] [--status published] [--output FILE]"""

import json

from django.core.management.base import BaseCommand, CommandError

from facilities.importers.findtreatment import export_page
from facilities.models import Facility
from facilities.states import STATES


class Command(BaseCommand):
    help = (
        "Write listings as one FindTreatment.gov export page, which import_findtreatment "
        "reads back without changing anything. Fictional (demo) listings are never exported."
    )

    def add_arguments(self, parser):
        parser.add_argument("--state", help="Only this state (USPS code, e.g. VA).")
        parser.add_argument(
            "--status",
            default=Facility.Status.PUBLISHED,
            choices=[*Facility.Status.values, "any"],
            help="Publication state to export (default: published).",
        )
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args, state, status, output, **options):
        listings = Facility.objects.exclude(source__in=Facility.FICTIONAL_SOURCES)
        if state:
            state = state.strip().upper()
            if state not in STATES:
                raise CommandError(f"{state!r} is not a US state code.")
            listings = listings.filter(state=state)
        if status != "any":
            listings = listings.filter(status=status)
        page = export_page(listings)
        text = json.dumps(page, indent=1, ensure_ascii=False) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Wrote {page['recordCount']} listing(s) to {output}.")
        else:
            self.stdout.write(text, ending="")
