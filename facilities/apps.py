from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "IOP facilities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import Term
        from .permissions import ensure_curators_group
        from .selectors import clear_vocabulary_cache

        post_save.connect(clear_vocabulary_cache, sender=Term)
        post_delete.connect(clear_vocabulary_cache, sender=Term)

        # Permissions exist only after post_migrate, so the group is made there too.
        post_migrate.connect(ensure_curators_group, sender=self)
