"""`manage.py minicrm_schema`: show MiniCRM's fields as the console's forms see them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.minicrm import minicrm_client
from apps.core.services import minicrm_schema_refresh
from minicrm import MiniCRMError, Priority
from minicrm.resources.schema import Schema


class Command(BaseCommand):
    help = (
        "Show the fields of Person, Business or a module (Project/<CategoryId>); "
        "--refresh drops the cached schemas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", nargs="?", help="Person, Business or Project/<CategoryId>")
        parser.add_argument("--refresh", action="store_true", help="drop the cached schemas first")

    def handle(
        self, *args: Any, entity: str | None = None, refresh: bool = False, **opts: Any
    ) -> None:
        try:
            if refresh:
                minicrm_schema_refresh(*([entity] if entity else []))
                self.stdout.write("Schema cache dropped.")
            if entity:
                self._show(self._schema(entity))
        except MiniCRMError as error:
            raise CommandError(str(error)) from error

    def _schema(self, entity: str) -> Schema:
        schemas = minicrm_client(Priority.BULK).schemas
        if entity in ("Person", "Business"):
            return schemas.contact(entity)
        kind, _, category = entity.partition("/")
        if kind != "Project" or not category.isdigit():
            raise CommandError("Name Person, Business or Project/<CategoryId>.")
        return schemas.project(int(category))

    def _show(self, schema: Schema) -> None:
        for spec in schema.fields.values():
            notes = [spec.kind]
            if spec.max_length:
                notes.append(f"max {spec.max_length}")
            if spec.required:
                notes.append("required")
            if spec.read_only:
                notes.append("read-only")
            if spec.choices:
                notes.append(", ".join(f"{k}={v}" for k, v in list(spec.choices.items())[:8]))
            self.stdout.write(f"{spec.name:32} {'; '.join(notes)}")
