"""One person, one open appointment at a time, guarded by the database: see
scheduling.person_overlap."""

from django.db import migrations


def create_guard(apps, schema_editor):
    from scheduling import person_overlap

    person_overlap.create(schema_editor.connection)


def drop_guard(apps, schema_editor):
    from scheduling import person_overlap

    person_overlap.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0005_appointment_dependant")]

    operations = [migrations.RunPython(create_guard, drop_guard)]
