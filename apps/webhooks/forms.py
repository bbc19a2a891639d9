"""The handler form and its actions (one row per action, in order).

What a handler names is checked against MiniCRM when it is saved: its module, the fields it
watches and the fields its actions set (the schema), the function it runs (allowed and
importable) and the address it forwards to (public, unless private ones are allowed).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.http import ID_MAX
from apps.core.storable import json_storable
from apps.webhooks.models import Action, Handler
from apps.webhooks.outbound import forward_problem
from apps.webhooks.selectors import handler_schemas
from apps.webhooks.services import Unprocessable, loop_risk, python_function
from minicrm import MiniCRMError, NotFound
from minicrm.resources.schema import Schema, SchemaValidationError

MAX_VALUES_TEXT = 10_000


class HandlerForm(forms.ModelForm):
    category_id = forms.IntegerField(
        label=_("Module"), required=False, min_value=1, max_value=ID_MAX
    )
    fields_text = forms.CharField(
        label=_("Fields"),
        required=False,
        max_length=2000,
        help_text=_("Comma-separated field names; empty: any change."),
    )

    class Meta:
        model = Handler
        fields = ["name", "slug", "enabled", "type", "category_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fields_text"].initial = ", ".join(self.instance.fields or [])
        self.schemas: list[Schema] | None = None  # once clean() could read them

    def clean_fields_text(self) -> list[str]:
        raw = self.cleaned_data.get("fields_text") or ""
        return [name.strip() for name in raw.split(",") if name.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, category_id = data.get("type"), data.get("category_id")
        if kind is None or "category_id" in self.errors:
            return data
        if kind == Handler.Type.CONTACT and category_id is not None:
            self.add_error("category_id", _("A contact handler has no module: leave it empty."))
            return data
        try:
            self.schemas = handler_schemas(object_type=kind, category_id=category_id)
        except NotFound:
            self.add_error(
                "category_id",
                _("MiniCRM has no module %(id)s.") % {"id": category_id},
            )
            return data
        except MiniCRMError:
            self.add_error(
                "category_id" if kind == Handler.Type.PROJECT else "type",
                _(
                    "MiniCRM did not answer, so the module and fields cannot be checked. "
                    "Try again in a minute."
                ),
            )
            return data
        known = {name for schema in self.schemas for name in schema.fields}
        unknown = [name for name in data.get("fields_text") or [] if name not in known]
        if unknown:
            self.add_error(
                "fields_text",
                _("MiniCRM has no such field here: %(fields)s.") % {"fields": ", ".join(unknown)},
            )
        return data

    def save(self, commit: bool = True) -> Handler:
        self.instance.fields = self.cleaned_data["fields_text"]
        return super().save(commit=commit)


def _python_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((path, path) for path in settings.WEBHOOK_PYTHON_FUNCTIONS)]


def _flat(value: Any) -> bool:
    """A value a field can take: text, a number, true/false/null, or a list of those."""
    scalar = str | int | float | bool | None
    return isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(item, scalar) for item in value)
    )


# The fields each kind of action reads: the others are ignored (not checked, not kept), and
# the page shows them only while their action is chosen.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.Kind.CREATE_TODO: ("comment", "owner", "days"),
    Action.Kind.SET_FIELDS: ("values",),
    Action.Kind.FORWARD: ("url",),
    Action.Kind.PYTHON: ("path",),
}


class ActionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Action"), choices=[("", "—"), *Action.Kind.choices], required=False
    )
    comment = forms.CharField(label=_("To-do comment"), required=False, max_length=2000)
    owner = forms.IntegerField(
        label=_("To-do owner (user id)"), required=False, min_value=1, max_value=ID_MAX
    )
    days = forms.IntegerField(
        label=_("Deadline in days"), required=False, min_value=0, max_value=3650
    )
    values = forms.CharField(
        label=_("Fields to set (JSON)"),
        required=False,
        max_length=MAX_VALUES_TEXT,
        help_text=_('e.g. {"StatusId": "Ajánlat kiküldve"}'),
    )
    url = forms.URLField(label=_("Forward to"), required=False, assume_scheme="https")
    path = forms.ChoiceField(
        label=_("Python function"),
        required=False,
        help_text=_("One of the functions WEBHOOK_PYTHON_FUNCTIONS lists."),
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a function WEBHOOK_PYTHON_FUNCTIONS allows: only the "
                "functions listed there can run."
            )
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["path"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _python_choices()

    @property
    def row_conditions(self) -> dict[str, dict[str, str]]:
        """Per field, the action choice it belongs to (core/_form.html marks its row with
        data-shown-if and data-shown-values; console.js hides the rows of other choices)."""
        kinds: dict[str, list[str]] = {}
        for kind, names in ACTION_FIELDS.items():
            for name in names:
                kinds.setdefault(name, []).append(str(kind))
        control = self.add_prefix("kind")
        return {name: {"name": control, "values": " ".join(k)} for name, k in kinds.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        # The fields of other actions were sent too (the page shows them all without
        # JavaScript): whatever they hold is neither checked nor kept.
        own = ACTION_FIELDS.get(kind or "", ())
        for name in {name for names in ACTION_FIELDS.values() for name in names} - set(own):
            self.errors.pop(name, None)
            data[name] = None
        if kind == Action.Kind.SET_FIELDS and "values" not in self.errors:
            try:
                values = json.loads(data.get("values") or "{}")
            except (ValueError, RecursionError):
                values = None
            if not isinstance(values, dict) or not values:
                self.add_error("values", _("Give the fields as a JSON object."))
                values = None
            elif not all(_flat(value) for value in values.values()):
                self.add_error(
                    "values",
                    _("Each value is text, a number, true/false or a list of them."),
                )
                values = None
            elif not json_storable(values):
                # JSON's escapes pass the text's checks; the database cannot store the result.
                self.add_error(
                    "values",
                    _("A value holds a character that cannot be stored (NUL or a lone surrogate)."),
                )
                values = None
            data["parsed_values"] = values or {}
        if kind == Action.Kind.FORWARD and "url" not in self.errors:
            if not data.get("url"):
                self.add_error("url", _("Give the URL to forward to."))
            else:
                problem = forward_problem(
                    data["url"], allow_private=settings.WEBHOOK_FORWARD_ALLOW_PRIVATE
                )
                if problem:
                    self.add_error("url", problem)
        if kind == Action.Kind.PYTHON and "path" not in self.errors:
            if not data.get("path"):
                self.add_error("path", _("Choose the function to run."))
            else:
                try:
                    python_function(data["path"])
                except (Unprocessable, ImportError) as error:
                    self.add_error(
                        "path",
                        _("%(path)s cannot be run: %(error)s")
                        % {"path": data["path"], "error": error},
                    )
        return data

    def as_action(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get("kind")
        if not kind:
            return None
        config: dict[str, Any] = {
            Action.Kind.CREATE_TODO: {
                "comment": data.get("comment"),
                "owner": data.get("owner"),
                "days": data.get("days") or 0,
            },
            Action.Kind.SET_FIELDS: {"values": data.get("parsed_values") or {}},
            Action.Kind.FORWARD: {"url": data.get("url")},
            Action.Kind.PYTHON: {"path": data.get("path")},
        }[kind]
        return {"kind": kind, "config": config}

    @classmethod
    def initial_for(cls, action: Action) -> dict[str, Any]:
        config = action.config or {}
        return {
            "kind": action.kind,
            "comment": config.get("comment"),
            "owner": config.get("owner"),
            "days": config.get("days"),
            "values": json.dumps(config.get("values"), ensure_ascii=False)
            if config.get("values")
            else "",
            "url": config.get("url"),
            "path": config.get("path"),
        }


MAX_ACTIONS = 20
# Bounded: a forged management form cannot make the page build thousands of forms.
ActionFormSet = forms.formset_factory(
    ActionForm, extra=2, max_num=MAX_ACTIONS, absolute_max=MAX_ACTIONS, validate_max=True
)


def check_set_fields(form: HandlerForm, actions: forms.BaseFormSet) -> bool:
    """Refuse "set fields" actions naming fields the handler's MiniCRM object has not, or
    values its schema refuses (one module's schema: a handler of any module is checked by
    the names only)."""
    schemas = form.schemas or []
    ok = True
    for action_form in actions.forms:
        values = action_form.cleaned_data.get("parsed_values")
        if action_form.cleaned_data.get("kind") != Action.Kind.SET_FIELDS or not values:
            continue
        if len(schemas) == 1:
            try:
                schemas[0].validate(values)
                continue
            except SchemaValidationError as error:
                problems = [f"{name}: {message}" for name, message in error.errors.items()]
        else:
            known = {name for schema in schemas for name in schema.fields}
            unknown = gettext("MiniCRM has no such field.")
            problems = [f"{name}: {unknown}" for name in values if name not in known]
        if problems:
            action_form.add_error("values", "; ".join(problems))
            ok = False
    return ok


def check_loops(form: HandlerForm, actions: list[dict[str, Any]]) -> bool:
    """Refuse a handler whose own actions write a field its filter watches."""
    risky = loop_risk(handler_fields=form.cleaned_data["fields_text"], actions=actions)
    if risky:
        form.add_error(
            "fields_text",
            _(
                "These actions write %(fields)s, which this handler watches: every change it "
                "makes would come back as a new webhook and run it again, without end. Watch "
                "other fields, or set other fields."
            )
            % {"fields": ", ".join(risky)},
        )
        return False
    return True
