"""`manage.py mirror_sync`: run the mirror's sync here, in the foreground, with progress lines.

The sync is the one Celery runs (services.sync_run), in rounds of a few seconds so that each
round can print where the mirror stands; it keeps to the sync's share of the request budget
and to its lock, so a worker's sync and this one never run at the same time (while a worker's
runs, this one waits for it to hand over).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from apps.core.http import parse_id
from apps.mirror import services
from apps.mirror.models import Module
from apps.mirror.selectors import SyncOverview, listed_module, sync_overview

ROUND_SECONDS = 5.0  # a progress line after each round
WAIT_SECONDS = 2.0  # how often to try again while another sync holds the lock
FAILED_ROUNDS = 3  # rounds in a row that only failed before giving up


class Command(BaseCommand):
    help = (
        "Run the mirror's sync in the foreground until it has caught up with MiniCRM (or for "
        "--seconds), printing its progress. --full reads everything again first; --module N "
        "reads one module again (its list, then its cards)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="read every list and every record again first"
        )
        parser.add_argument(
            "--module",
            metavar="N",
            help="read module N (a CategoryId MiniCRM lists) again first, not everything",
        )
        parser.add_argument(
            "--seconds",
            type=float,
            metavar="S",
            help="stop after S seconds, caught up or not (default: run until caught up)",
        )

    def execute(self, *args: Any, **options: Any) -> str | None:
        # A shell reads the console's own language, whatever a request before activated.
        with translation.override(settings.LANGUAGE_CODE):
            return super().execute(*args, **options)

    def handle(
        self,
        *args: Any,
        full: bool = False,
        module: str | None = None,
        seconds: float | None = None,
        **options: Any,
    ) -> None:
        if seconds is not None and not seconds > 0:
            raise CommandError("--seconds must be more than 0.")
        if not settings.MIRROR_ENABLED:
            self.say("MIRROR_ENABLED is off: the mirror is synced, but pages do not read it.")
        category_id = None
        if module is not None:
            category_id = parse_id(module.strip())
            if category_id is None:
                raise CommandError(
                    f"--module takes a module's id (its CategoryId), not {module!r}."
                )
        try:
            self._resync(full=full, module=category_id)
            self._run(seconds)
        except redis.RedisError as error:
            raise CommandError(
                "The console's Redis (REDIS_URL) cannot be reached: the sync needs it for its "
                f"lock and for the request budget ({type(error).__name__})."
            ) from None

    # -- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """A line of output; the API key never appears in it, whatever an error said."""
        key = str(settings.MINICRM_API_KEY or "")
        self.stdout.write(text.replace(key, "***") if key else text)

    def _counts(self, overview: SyncOverview) -> str:
        cards = sum(part.rows for part in overview.modules)
        cards_done = sum(part.detail for part in overview.modules)
        contacts = overview.contacts
        text = (
            f"cards {cards} mirrored, {cards_done} in detail; contacts {contacts.rows} mirrored, "
            f"{contacts.detail} in detail; {overview.stale} waiting for a read"
        )
        if overview.requests_used is not None:
            text += (
                f"; {overview.requests_used} of {overview.share_limit} requests in the last "
                f"{overview.window:g} s"
            )
        return text

    @staticmethod
    def _steps(steps: Counter[str]) -> str:
        total = sum(steps.values())
        detail = ", ".join(f"{name} {count}" for name, count in sorted(steps.items()))
        return f"{total} step{'' if total == 1 else 's'}" + (f" ({detail})" if detail else "")

    # -- the work -------------------------------------------------------------------------

    def _resync(self, *, full: bool, module: int | None) -> None:
        if module is not None:
            found = listed_module(category_id=module)
            if found is None:
                listed = ", ".join(f"{m.pk} ({m.name})" for m in Module.objects.filter(listed=True))
                raise CommandError(
                    f"Module {module} is not one MiniCRM lists. "
                    + (
                        f"Listed modules: {listed}."
                        if listed
                        else "The mirror knows no modules yet: run mirror_sync once first."
                    )
                )
            services.module_resync(category_id=found.pk)
            self.say(f"Module {found.pk} ({found.name}) will be read again: its list, its cards.")
        elif full:
            services.mirror_resync_all()
            self.say("Everything will be read again: the modules, every list, every record.")

    def _run(self, seconds: float | None) -> None:
        started = time.monotonic()
        deadline = None if seconds is None else started + seconds
        steps: Counter[str] = Counter()
        errors = 0
        failed_rounds = 0
        waiting = False
        caught_up = False
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                report = services.sync_run(
                    seconds=ROUND_SECONDS if left is None else min(ROUND_SECONDS, left)
                )
                if not report.ran:
                    if not waiting:
                        self.say(
                            "Another sync is running (a worker's): waiting for it to hand over."
                        )
                    waiting = True
                    time.sleep(WAIT_SECONDS if left is None else max(0.0, min(WAIT_SECONDS, left)))
                    continue
                waiting = False
                steps.update(report.steps)
                errors += report.errors
                elapsed = time.monotonic() - started
                self.say(
                    f"[{elapsed:5.0f} s] {self._steps(steps)}; {self._counts(sync_overview())}"
                )
                if report.caught_up:
                    caught_up = True
                    break
                failed_rounds = failed_rounds + 1 if report.errors and not report.steps else 0
                if failed_rounds >= FAILED_ROUNDS:
                    self._summary(started, steps, errors, caught_up=False)
                    raise CommandError(
                        "The sync keeps failing (see the errors above); it stopped. "
                        "The Sync page shows the same."
                    )
        except KeyboardInterrupt:
            self.say("Interrupted.")
        self._summary(started, steps, errors, caught_up=caught_up)

    def _summary(
        self, started: float, steps: Counter[str], errors: int, *, caught_up: bool
    ) -> None:
        elapsed = time.monotonic() - started
        overview = sync_overview()
        state = "Caught up" if caught_up else "Stopped, not caught up yet,"
        self.say(f"{state} after {elapsed:.0f} s: {self._steps(steps)}, {errors} failed.")
        for part in [*overview.modules, overview.contacts]:
            listed = (
                "no list pass finished yet"
                if part.listed_total is None
                else f"MiniCRM listed {part.listed_total}"
            )
            self.say(
                f"  {part.name}: {part.rows} mirrored, {part.detail} in detail, "
                f"{part.deleted} deleted; {listed}"
            )
        if overview.eta_seconds:
            self.say(
                f"  Still to read: {overview.missing_cards} cards and "
                f"{overview.missing_contacts} contacts, about {overview.eta_seconds} s at "
                f"{overview.share_limit} requests per {overview.window:g} s."
            )
        for error in overview.errors:
            self.say(f"  Error ({error.label}): {error.error}")
