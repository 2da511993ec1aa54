"""Write facilities/zip_centroids.csv.gz from the installed `zipcodes` package (make zip-table)."""

from django.core.management.base import BaseCommand

from facilities import geo


class Command(BaseCommand):
    help = "Write the ZIP centre table that location search reads, from the zipcodes package."

    def handle(self, *args, **options):
        geo.write_zip_table()
        geo._zip_table.cache_clear()
        self.stdout.write(f"{len(geo._zip_table()):,} ZIP codes written to {geo.ZIP_TABLE_PATH}")
