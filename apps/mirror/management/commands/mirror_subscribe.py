"""`manage.py mirror_subscribe`: the mirror's webhook handlers, subscribed in the sandbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.mirror.subscriptions import BackendUnreachable, mirror_subscribe


class Command(BaseCommand):
    help = (
        "Make sure the mirror's two webhook handlers exist (Mirror: cards, Mirror: contacts) "
        "and, when MINICRM_BASE_URL is the sandbox, that each is subscribed there once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            subscriptions = mirror_subscribe()
        except BackendUnreachable as error:
            raise CommandError(
                f"MiniCRM at MINICRM_BASE_URL cannot be reached ({error}): the handlers were "
                "not checked. Start the sandbox (or check the address) and run this again."
            ) from None
        failed = []
        for sub in subscriptions:
            handler = sub.handler
            what = "created" if sub.created else "exists"
            line = f"{handler.name} (/hooks/{handler.slug}/, {handler.type}): {what}"
            if sub.sandbox == "kept":
                line += f"; subscribed in the sandbox (webhook #{sub.webhook_id}), unchanged"
            elif sub.sandbox == "subscribed":
                line += f"; subscribed in the sandbox now (webhook #{sub.webhook_id})"
            elif sub.sandbox == "failed":
                line += "; subscribing it in the sandbox FAILED"
                failed.append(handler.name)
            self.stdout.write(line)
            if not handler.enabled:
                self.stdout.write(
                    f"  {handler.name} is disabled (an administrator turned it off): its "
                    "events are refused, and the mirror relies on the poll alone."
                )
        if subscriptions and not subscriptions[0].sandbox:
            self.stdout.write(
                "MINICRM_BASE_URL is not the sandbox: MiniCRM subscribes webhooks through its "
                "helpdesk. On each handler's page (Webhooks), press 'Change the password' and "
                "send them the ApiUrl it shows. Until then the mirror follows MiniCRM with its "
                "poll."
            )
        if failed:
            raise CommandError(
                f"Could not subscribe {', '.join(failed)} in the sandbox; run this again."
            )
