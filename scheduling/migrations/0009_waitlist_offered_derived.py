"""A waitlist entry no longer stores "offered": an offer holding a time says so, and the stored
copy went stale when a hold ran out. Entries marked offered wait again; the ones whose offer
still holds read "offered" from it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0008_verbose_names")]

    operations = [
        migrations.RunSQL(
            "UPDATE scheduling_waitlistentry SET status = 'waiting' WHERE status = 'offered'",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveConstraint(
            model_name="waitlistentry",
            name="scheduling_waitlist_status_valid",
        ),
        migrations.AlterField(
            model_name="waitlistentry",
            name="status",
            field=models.CharField(
                choices=[
                    ("waiting", "Waiting"),
                    ("booked", "Booked"),
                    ("left", "Left the waitlist"),
                ],
                default="waiting",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["waiting", "booked", "left"])),
                name="scheduling_waitlist_status_valid",
            ),
        ),
    ]
