"""Every database starts with the built-in vocabularies."""

from django.db import migrations


def load(apps, schema_editor):
    from facilities.vocabulary import sync_vocabulary

    sync_vocabulary(apps.get_model("facilities", "Term"))


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
