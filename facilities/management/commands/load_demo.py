"""manage.py load_demo: what `make run` shows on a fresh machine. Safe to run again."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from facilities.importers.findtreatment import import_paths
from facilities.models import Facility

FIXTURES = settings.BASE_DIR / "fixtures"
DEMO_FIXTURE = FIXTURES / "demo_facilities.json"
SAMPLE = FIXTURES / "findtreatment-sample.json"


class Command(BaseCommand):
    help = "Load the fictional demo listings (if present) and import the FindTreatment sample."

    def handle(self, *args, **options):
        if not DEMO_FIXTURE.exists():
            self.stdout.write(f"No {DEMO_FIXTURE.name}; no demo listings to load.")
        elif Facility.objects.filter(source=Facility.Source.DEMO).exists():
            # Loading again would undo what someone changed in admin since.
            self.stdout.write("Demo listings already loaded; left as they are.")
        else:
            call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
            count = Facility.objects.filter(source=Facility.Source.DEMO).count()
            self.stdout.write(f"Loaded {count} demo listing(s) from {DEMO_FIXTURE.name}.")

        report = import_paths([SAMPLE], publish=True)
        self.stdout.write(f"Imported {SAMPLE.name}: {report.summary()}")
        for where, reason in report.rejected:
            self.stderr.write(f"REJECTED: {where}: {reason}")
