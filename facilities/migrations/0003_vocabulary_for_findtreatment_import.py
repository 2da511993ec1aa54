"""Terms the FindTreatment mapping needs (RES, ACT, SOC, CRIS, SUIC, HED) in existing databases."""

from django.db import migrations


def load(apps, schema_editor):
    from facilities.vocabulary import sync_vocabulary

    sync_vocabulary(apps.get_model("facilities", "Term"))


class Migration(migrations.Migration):
    dependencies = [("facilities", "0002_load_vocabulary")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
