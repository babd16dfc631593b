"""Sends due webhooks and e-mails (new, retried, or left behind by a stopped web process) and
due reminders. Idempotent: run it as often and as many times at once as you like.

    manage.py run_worker            # loop until SIGTERM/SIGINT, a pass every --interval seconds
    manage.py run_worker --once     # one pass, e.g. from cron
    manage.py run_worker --dry-run  # list what is due, change nothing
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections
from django.utils.translation import gettext, ngettext

from notifications import worker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Delivers due webhooks and e-mails and sends due reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="One pass, then exit.")
        mode.add_argument(
            "--loop", action="store_true", help="Pass after pass until stopped (the default)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what is due, send nothing, and exit."
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between passes (default 5)."
        )
        parser.add_argument(
            "--batch", type=int, default=20, help="Deliveries claimed at a time (default 20)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            lines = worker.describe_due()
            for line in lines:
                self.stdout.write(line)
            self.stdout.write(f"{len(lines)} due; nothing sent (dry run).")
            return

        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (docker stop, systemd) ends the worker between two deliveries, never in
            # the middle of one; claimed but unsent ones go back to the outbox.
            def request_stop(signum: int, frame: object) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)

        while True:
            try:
                result = worker.run_pass(batch=options["batch"], stop=stop)
            except Exception:
                if options["once"]:
                    raise
                # A lost database connection, say: log it and try again next pass.
                logger.exception("Worker pass failed")
                connections.close_all()
                result = worker.PassResult()
            if result.reminders or result.attempted or options["once"]:
                self.stdout.write(pass_summary(result))
            if options["once"] or stop.wait(options["interval"]):
                break
            # Between passes, as between requests: drop a connection that broke or aged out.
            close_old_connections()
        if stop.is_set():
            self.stdout.write("Stopped.")


def pass_summary(result: worker.PassResult) -> str:
    """One pass in a line for the operator's log, with each count's own plural."""
    reminders = ngettext(
        "%(count)s reminder recorded", "%(count)s reminders recorded", result.reminders
    ) % {"count": result.reminders}
    attempts = ngettext(
        "%(count)s delivery attempt", "%(count)s delivery attempts", result.attempted
    ) % {"count": result.attempted}
    delivered = ngettext("%(count)s delivered", "%(count)s delivered", result.delivered) % {
        "count": result.delivered
    }
    return gettext("%(reminders)s, %(attempts)s, %(delivered)s.") % {
        "reminders": reminders,
        "attempts": attempts,
        "delivered": delivered,
    }
