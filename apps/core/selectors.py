"""Reads the whole console shares: its configuration, MiniCRM's modules, the header gauges,
the fields administrators name."""

import functools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

from apps.core.errors import failure_of
from apps.core.minicrm import minicrm_budget, minicrm_client
from apps.core.models import FieldLabel, Profile
from apps.core.parallel import in_gather
from apps.core.readcache import cached_json
from apps.mirror.models import Module as MirrorModule
from apps.writes.models import Write
from minicrm import MiniCRMError, NotFound
from minicrm.resources.schema import FieldSpec, Schema


@dataclass(frozen=True)
class MiniCRMBackend:
    """The MiniCRM system the console talks to. Holds no credentials beyond the system id."""

    base_url: str
    system_id: str
    rate_limit: int
    rate_window: float


def minicrm_backend_get() -> MiniCRMBackend:
    return MiniCRMBackend(
        base_url=settings.MINICRM_BASE_URL,
        system_id=settings.MINICRM_SYSTEM_ID,
        rate_limit=settings.MINICRM_RATE_LIMIT,
        rate_window=settings.MINICRM_RATE_WINDOW,
    )


@dataclass(frozen=True)
class Module:
    """A MiniCRM module (Category) as the navigation shows it."""

    id: int
    name: str
    is_helpdesk: bool = False


def modules_all() -> list[Module]:
    """MiniCRM's modules in their own order: the mirror's list once the sync has read it,
    else MiniCRM's (briefly cached); MiniCRM's error when it cannot list them."""
    if settings.MIRROR_ENABLED and not in_gather():
        held = MirrorModule.objects.filter(listed=True, synced_at__isnull=False)
        mirrored = [Module(m.id, m.name, m.type == "HelpDesk") for m in held.order_by("position")]
        if mirrored:
            return mirrored
    rows = cached_json(
        "categories",
        "all",
        lambda: [
            {"id": c.id, "name": c.name, "type": c.type} for c in minicrm_client().categories.list()
        ],
    )
    return [Module(row["id"], row["name"], row["type"] == "HelpDesk") for row in rows]


@dataclass(frozen=True)
class ModuleList:
    """MiniCRM's modules for the navigation, or why they cannot be listed (a failure kind of
    `failure_of`: the page goes on, and says what is wrong)."""

    modules: list[Module]
    problem: str = ""


def module_list() -> ModuleList:
    """MiniCRM's modules for the navigation; when MiniCRM or Redis is away, none and why."""
    try:
        return ModuleList(modules_all())
    except (MiniCRMError, redis.RedisError) as error:
        return ModuleList([], failure_of(error)[1])


def module_get(*, category_id: int) -> Module:
    """One module; NotFound only when MiniCRM listed its modules and this is not one of them
    (an unreachable or failing MiniCRM raises its own error, not a 404)."""
    for module in modules_all():
        if module.id == category_id:
            return module
    raise NotFound(f"Module {category_id} not found.")


@dataclass(frozen=True)
class ConsoleStatus:
    """The header's gauges: requests used of the budget, and the write queue."""

    used: int
    limit: int
    window: float
    cooling_down: float
    pending_writes: int
    my_failed_writes: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 0


def console_status(*, user: Any) -> ConsoleStatus | None:
    """The header's gauges; None when Redis (which holds the budget) cannot be reached."""
    try:
        usage = minicrm_budget().usage()
    except redis.RedisError:
        return None
    pending = Write.objects.filter(state__in=Write.PENDING_STATES).count()
    failed = Write.objects.filter(
        requested_by=user, state__in=(Write.State.FAILED, Write.State.CONFLICT)
    ).count()
    return ConsoleStatus(
        used=usage.used,
        limit=usage.limit,
        window=usage.window,
        cooling_down=usage.cooling_down,
        pending_writes=pending,
        my_failed_writes=failed,
    )


def minicrm_user_id(*, user: Any) -> int | None:
    """The MiniCRM user a console user said they are (Preferences), if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    profile = Profile.objects.filter(user_id=int(user.pk)).first()
    return profile.minicrm_user_id if profile else None


def minicrm_users() -> dict[int, str]:
    """MiniCRM's users (owners of cards and to-dos), as the first module's schema lists them."""
    for module in module_list().modules:
        schema = minicrm_client().schemas.project(module.id)
        if "UserId" in schema.fields:
            return schema.fields["UserId"].choices
    return {}


# The areas of the tz database's geographic zones (Area/Location): the others ("US/", "Etc/",
# "SystemV/", "Zulu" ...) are legacy aliases.
ZONE_AREAS = frozenset(
    [
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    ]
)
COMMON_ZONES = ("Europe/Budapest", "Europe/Vienna", "Europe/Berlin", "Europe/London", "UTC")


@functools.cache
def _zone_links() -> frozenset[str]:
    """The tz database's aliases of other zones (its `L target alias` lines), when the system's
    tzdata.zi is there to say; else none."""
    for root in zoneinfo.TZPATH:
        source = Path(root) / "tzdata.zi"
        if source.is_file():
            lines = source.read_text(encoding="utf-8").splitlines()
            return frozenset(line.split()[2] for line in lines if line.startswith("L "))
    return frozenset()


@functools.cache
def _canonical_zones() -> tuple[str, ...]:
    links = _zone_links()
    zones = {
        zone
        for zone in zoneinfo.available_timezones()
        if zone.split("/", 1)[0] in ZONE_AREAS and "/" in zone and zone not in links
    }
    return ("UTC", *sorted(zones))


def time_zones(*, keep: str = "") -> list[str]:
    """The time zones people choose from: UTC and the canonical Area/Location zones, sorted;
    `keep` (a zone chosen before, an alias perhaps) stays offered while it is chosen."""
    zones = list(_canonical_zones())
    if keep and keep not in zones and keep in zoneinfo.available_timezones():
        zones.append(keep)
    return zones


# -- field labels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledEntity:
    """What administrators name fields of: a module's cards, companies or persons."""

    key: str  # a module's id ("20"), Business or Person (FieldLabel.entity, FieldSpec.owner)
    title: str


def field_label_entities() -> list[LabelledEntity]:
    """Every module (when MiniCRM's modules can be listed), then companies and persons."""
    from django.utils.translation import gettext as _

    try:
        modules = modules_all()
    except (MiniCRMError, redis.RedisError):
        modules = []
    return [
        *(LabelledEntity(str(module.id), module.name) for module in modules),
        LabelledEntity("Business", _("Companies")),
        LabelledEntity("Person", _("Persons")),
    ]


@dataclass(frozen=True)
class EntityFields:
    """An entity's schema fields, each with the labels administrators gave it (blank: none);
    `problem` is the kind of failure (see `failure_of`) when the schema cannot be read."""

    fields: list[FieldSpec]
    labels: dict[str, tuple[str, str]]  # {field name: (English, Hungarian)}
    problem: str = ""


def _entity_schema(entity: str) -> Schema:
    from apps.mirror import store
    from apps.mirror.models import Schema as MirrorSchema

    if entity in ("Business", "Person"):
        if settings.MIRROR_ENABLED:
            row = MirrorSchema.objects.filter(entity=entity).first()
            if row is not None and row.data:
                return Schema.parse(entity, row.data)
        return minicrm_client().schemas.contact(entity)
    category_id = int(entity)
    if settings.MIRROR_ENABLED:
        held = store.module_field_schema(category_id)
        if held is not None:
            return held
    return minicrm_client().schemas.project(category_id)


def entity_fields(*, entity: str) -> EntityFields:
    """The fields of one entity of `field_label_entities`, in the schema's order."""
    labels = {
        name: (english, hungarian)
        for name, english, hungarian in FieldLabel.objects.filter(entity=entity).values_list(
            "field_name", "label_en", "label_hu"
        )
    }
    try:
        schema = _entity_schema(entity)
    except (MiniCRMError, redis.RedisError) as error:
        return EntityFields([], labels, failure_of(error)[1])
    return EntityFields(list(schema.fields.values()), labels)
