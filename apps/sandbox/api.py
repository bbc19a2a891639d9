"""The sandbox's WSGI application: MiniCRM's paths, auth, budget, faults and sandbox-only endpoints.

Every MiniCRM path is served with and without the `/{SystemId}` prefix. Errors are one line of
plain text, `<Entity> (<METHOD>): <message>`, as MiniCRM answers them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from apps.sandbox import webhooks
from apps.sandbox.budget import Budget
from apps.sandbox.errors import ApiError, bad_request, not_found
from apps.sandbox.fields import MAX_INT, contact_fields, project_fields
from apps.sandbox.resources import contacts, orders, projects, todos
from apps.sandbox.resources.common import Ctx
from apps.sandbox.store import Store, dumps

log = logging.getLogger(__name__)

Handler = Callable[[Ctx, "Call"], Any]
NO_BODY = object()
TODO_POST_MESSAGE = "A metódus nem engedélyezett!"


@dataclass
class Call:
    """What a handler gets from one request: the path's numbers, the query and the JSON body."""

    ids: tuple[int, ...]
    words: tuple[str, ...]
    params: dict[str, str]
    body: Any


@dataclass
class Route:
    pattern: re.Pattern[str]
    entity: str
    reads: dict[str, Handler] = field(default_factory=dict)
    writes: dict[str, Handler] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # method -> MiniCRM's own message

    @property
    def methods(self) -> set[str]:
        return {*self.reads, *self.writes}


def _route(path: str, entity: str, **kw: Any) -> Route:
    return Route(re.compile(f"^{path}/?$"), entity, **kw)


def _categories(ctx: Ctx, call: Call) -> dict[str, Any]:
    rows = ctx.db.execute("SELECT * FROM categories ORDER BY order_id, id").fetchall()
    if call.params.get("Detailed") in ("1", "true", "True"):
        return {
            str(row["id"]): {
                "Id": row["id"],
                "OrderId": row["order_id"],
                "Name": row["name"],
                "Type": row["type"],
            }
            for row in rows
        }
    return {str(row["id"]): row["name"] for row in rows}


def _contact_schema(ctx: Ctx, call: Call) -> dict[str, Any]:
    return {name: f.schema_value() for name, f in contact_fields(ctx.db, call.words[0]).items()}


def _project_schema(ctx: Ctx, call: Call) -> dict[str, Any]:
    category_id = call.ids[0]
    if ctx.db.execute("SELECT 1 FROM categories WHERE id = ?", (category_id,)).fetchone() is None:
        raise not_found(f"Category {category_id} not found.")
    return {name: f.schema_value() for name, f in project_fields(ctx.db, category_id).items()}


def _history(ctx: Ctx, call: Call) -> dict[str, Any]:
    params = dict(call.params)
    if call.words and call.words[0]:
        params["Type"] = call.words[0]
    return projects.history(ctx, call.ids[0], params)


R3 = "/Api/R3"
ROUTES = [
    _route(f"{R3}/Category", "Category", reads={"GET": _categories}),
    _route(
        f"{R3}/Contact",
        "Contact",
        reads={"GET": lambda ctx, c: contacts.search(ctx, c.params)},
        writes={m: lambda ctx, c: contacts.save(ctx, None, c.body) for m in ("PUT", "POST")},
    ),
    _route(
        rf"{R3}/Contact/(\d+)",
        "Contact",
        reads={"GET": lambda ctx, c: contacts.detail(ctx, c.ids[0])},
        writes={m: lambda ctx, c: contacts.save(ctx, c.ids[0], c.body) for m in ("PUT", "POST")},
    ),
    _route(
        rf"{R3}/PurgePerson/(\d+)",
        "PurgePerson",
        writes={
            m: lambda ctx, c: contacts.purge_person(ctx, c.ids[0]) for m in ("GET", "PUT", "POST")
        },
    ),
    _route(f"{R3}/Schema/(Person|Business)", "Schema", reads={"GET": _contact_schema}),
    _route(rf"{R3}/Schema/Project/(\d+)", "Schema", reads={"GET": _project_schema}),
    _route(
        f"{R3}/Project",
        "Project",
        reads={"GET": lambda ctx, c: projects.search(ctx, c.params)},
        writes={m: lambda ctx, c: projects.save(ctx, None, c.body) for m in ("PUT", "POST")},
    ),
    _route(
        rf"{R3}/Project/(\d+)",
        "Project",
        reads={"GET": lambda ctx, c: projects.detail(ctx, c.ids[0])},
        writes={m: lambda ctx, c: projects.save(ctx, c.ids[0], c.body) for m in ("PUT", "POST")},
    ),
    _route(
        rf"{R3}/ProjectHistory/(\d+)(?:/Type=(\w*))?", "ProjectHistory", reads={"GET": _history}
    ),
    _route(
        rf"{R3}/ToDoList/(\d+)",
        "ToDoList",
        reads={"GET": lambda ctx, c: todos.todo_list(ctx, c.ids[0], c.params)},
    ),
    _route(
        f"{R3}/ToDo",
        "ToDo",
        writes={"PUT": lambda ctx, c: todos.save(ctx, None, c.body)},
        refused={"POST": TODO_POST_MESSAGE},
    ),
    _route(
        rf"{R3}/ToDo/(\d+)",
        "ToDo",
        reads={"GET": lambda ctx, c: todos.detail(ctx, c.ids[0])},
        writes={"PUT": lambda ctx, c: todos.save(ctx, c.ids[0], c.body)},
        refused={"POST": TODO_POST_MESSAGE},
    ),
    _route("/Api/Order", "Order", writes={"POST": lambda ctx, c: orders.create(ctx, c.body)}),
    _route(
        r"/Api/Order/(\d+)",
        "Order",
        reads={"GET": lambda ctx, c: orders.detail(ctx, c.ids[0])},
        writes={"POST": lambda ctx, c: orders.modify(ctx, c.ids[0], c.body)},
    ),
    _route(
        r"/Api/Order/(\d+)/DeleteItem/(\d+)",
        "Order",
        writes={m: lambda ctx, c: orders.delete_item(ctx, *c.ids) for m in ("GET", "POST")},
    ),
    _route(
        r"/Api/Order/(\d+)/Project",
        "Order",
        writes={"POST": lambda ctx, c: orders.set_custom_fields(ctx, c.ids[0], c.body)},
    ),
    _route(
        r"/Api/Order/(\d+)/(Finalize|Edit|Complete|Paid|Storno)",
        "Order",
        writes={
            m: lambda ctx, c: orders.transition(ctx, c.ids[0], c.words[0]) for m in ("GET", "POST")
        },
    ),
]
# Handlers that take no body even when they write.
BODYLESS = {"PurgePerson"}
BODYLESS_PATTERNS = (
    re.compile(r"/DeleteItem/"),
    re.compile(r"/(Finalize|Edit|Complete|Paid|Storno)/?$"),
)


class SandboxApp:
    """The WSGI callable; one instance per sandbox process."""

    def __init__(
        self,
        store: Store,
        *,
        system_id: str,
        api_key: str,
        budget: Budget,
        dispatcher: webhooks.Dispatcher | None = None,
        seed: str = "",
    ) -> None:
        self.store = store
        self.system_id = system_id
        self.api_key = api_key
        self.budget = budget
        self.dispatcher = dispatcher
        self.seed = seed
        self.requests_log: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._log_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():  # raw UTF-8 bytes in the URL, as curl sends them unquoted
            environ["QUERY_STRING"] = quote(query.encode("latin-1"), safe="=&+%")
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:
            log.exception("sandbox failed on %s %s", request.method, request.path)
            response = _text(500, "Internal Server Error")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sandbox/"):
            return self.sandbox_endpoint(request)
        prefix = re.match(r"^/(\d+)(/Api/.*)$", path)
        system_ok = True
        if prefix:
            system_ok = prefix.group(1) == self.system_id
            path = prefix.group(2)
        if not system_ok or not self._authorized(request):
            return self._logged(request, _text(401, "Unauthorized: wrong SystemId or API key."))
        verdict, retry_after = self.budget.admit()
        if verdict == "429":
            response = _text(429, "Too Many Requests")
            response.headers["Retry-After"] = str(retry_after)
            return self._logged(request, response)
        latency = self.budget.faults.latency
        if latency > 0:
            time.sleep(latency)
        if verdict == "500":
            return self._logged(request, _text(500, "Internal Server Error"))
        return self._logged(request, self.api(request, path))

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        return bool(
            auth
            and auth.type == "basic"
            and auth.username == self.system_id
            and auth.password == self.api_key
        )

    def _logged(self, request: Request, response: Response) -> Response:
        with self._log_lock:
            self.requests_log.append(
                {
                    "t": time.time(),
                    "method": request.method,
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "status": response.status_code,
                }
            )
        return response

    def api(self, request: Request, path: str) -> Response:
        for route in ROUTES:
            match = route.pattern.match(path)
            if match is None:
                continue
            method = request.method
            prefix = f"{route.entity} ({method}): "
            if method in route.refused:
                return _text(405, prefix + route.refused[method])
            if method not in route.methods:
                return _text(405, prefix + "Method not allowed.")
            groups = [g for g in match.groups() if g is not None]
            if any(g.isdigit() and int(g) > MAX_INT for g in groups):
                return _text(404, prefix + "Not found.")
            call = Call(
                ids=tuple(int(g) for g in groups if g.isdigit()),
                words=tuple(g for g in groups if not g.isdigit()),
                params={key: request.args.get(key, "") for key in request.args},
                body=None,
            )
            try:
                if method in route.reads:
                    with self.store.reading() as db:
                        result = route.reads[method](self._ctx(request, db), call)
                else:
                    if route.entity not in BODYLESS and not any(
                        p.search(path) for p in BODYLESS_PATTERNS
                    ):
                        call.body = _json_body(request)
                    with self.store.transaction() as db:
                        result = route.writes[method](self._ctx(request, db), call)
                    if self.dispatcher:
                        self.dispatcher.notify()
            except ApiError as error:
                if error.as_json:
                    return _json(error.status, {"Message": error.message})
                return _text(error.status, prefix + error.message)
            return _json(200, result)
        return _text(404, f"Not found: {path}")

    def _ctx(self, request: Request, db: Any) -> Ctx:
        return Ctx(db=db, base_url=request.host_url.rstrip("/"), system_id=self.system_id)

    # -- sandbox-only endpoints ---------------------------------------------------------

    def sandbox_endpoint(self, request: Request) -> Response:
        path, method = request.path.rstrip("/"), request.method
        if path == "/_sandbox/health":
            return _json(200, {"status": "ok", "system_id": self.system_id, "seed": self.seed})
        if not self._authorized(request):
            return _text(401, "Unauthorized: wrong SystemId or API key.")
        try:
            return self._sandbox_action(request, path, method)
        except ApiError as error:
            return _text(error.status, f"Sandbox ({method}): {error.message}")

    def _sandbox_action(self, request: Request, path: str, method: str) -> Response:
        if path == "/_sandbox/faults":
            if method == "POST":
                self._set_faults(_json_body(request))
            return _json(200, self.budget.faults.as_dict())
        if path == "/_sandbox/requests":
            if method == "DELETE":
                with self._log_lock:
                    self.requests_log.clear()
                return _json(200, [])
            since = float(request.args.get("since", "0") or 0)
            with self._log_lock:
                return _json(200, [r for r in self.requests_log if r["t"] >= since])
        if path == "/_sandbox/webhooks":
            if method == "POST":
                return _json(200, self._add_webhook(_json_body(request)))
            with self.store.reading() as db:
                rows = db.execute("SELECT * FROM webhooks ORDER BY id").fetchall()
            return _json(200, [webhooks.webhook_view(row) for row in rows])
        if path == "/_sandbox/webhooks/deliveries":
            with self.store.reading() as db:
                rows = db.execute("SELECT * FROM deliveries ORDER BY id").fetchall()
            return _json(200, [webhooks.delivery_view(row) for row in rows])
        hook = re.match(r"^/_sandbox/webhooks/(\d{1,18})$", path)
        if hook and method == "DELETE":
            with self.store.transaction() as db:
                gone = db.execute("DELETE FROM webhooks WHERE id = ?", (int(hook.group(1)),))
                db.execute(
                    "UPDATE deliveries SET state = 'cancelled' WHERE webhook_id = ? AND"
                    " state = 'pending'",
                    (int(hook.group(1)),),
                )
            if not gone.rowcount:
                raise not_found(f"Webhook {hook.group(1)} not found.")
            return _json(200, {"Id": int(hook.group(1))})
        raise not_found(f"Not found: {path}")

    def _set_faults(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        faults = self.budget.faults
        try:
            latency = float(body.get("latency", faults.latency))
            error_rate = float(body.get("error_rate", faults.error_rate))
            force_429 = int(body.get("force_429", faults.force_429))
        except (TypeError, ValueError):
            raise bad_request("latency, error_rate and force_429 must be numbers.") from None
        if latency < 0 or not 0 <= error_rate <= 1 or force_429 < 0:
            raise bad_request("latency >= 0, 0 <= error_rate <= 1 and force_429 >= 0 are expected.")
        faults.latency, faults.error_rate, faults.force_429 = latency, error_rate, force_429

    def _add_webhook(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        kind = body.get("Type")
        fields_ = body.get("Fields") or []
        category = body.get("CategoryId")
        url = body.get("ApiUrl")
        if kind not in ("Project", "Contact"):
            raise bad_request("Type must be Project or Contact.")
        if not isinstance(fields_, list) or not all(isinstance(f, str) for f in fields_):
            raise bad_request("Fields must be a list of field names.")
        if category not in (None, "") and not str(category).isdigit():
            raise bad_request("CategoryId must be a number.")
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise bad_request("ApiUrl must be an http(s) URL.")
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO webhooks (type, category_id, fields, api_url) VALUES (?, ?, ?, ?)",
                (
                    kind,
                    int(str(category)) if category not in (None, "") else None,
                    dumps(fields_),
                    url,
                ),
            )
            row = db.execute("SELECT * FROM webhooks WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return webhooks.webhook_view(row)


def _json_body(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise bad_request("The request body must be a JSON object.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("Malformed JSON in the request body.") from None


def _json(status: int, value: Any) -> Response:
    body = json.dumps(value, separators=(",", ":"))
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, content_type="text/plain; charset=utf-8")
