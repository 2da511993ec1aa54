"""The facilities app: wires the data version's signals and the Curators group at start."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "IOP facilities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import data_version
        from .permissions import ensure_curators_group

        # Cached vocabularies, counts and summaries follow every change (data_version.py).
        data_version.connect_signals()

        # Permissions exist only after post_migrate, so the group is made there too.
        post_migrate.connect(ensure_curators_group, sender=self)
