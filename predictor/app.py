"""The replica's Sanic applications: the serving app and the private admin app."""

from __future__ import annotations

import asyncio
import logging
import operator
from time import perf_counter

from sanic import Blueprint, Request, Sanic
from sanic.exceptions import BadRequest, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse

from predictor import prom
from predictor.codec import Malformed, TooLarge, check_size, decode, encode
from predictor.logs import describe, log, one_line_traceback, truncate
from predictor.memory import exit_if_out_of_memory
from predictor.runner import Busy
from predictor.state import Replica, Traced

JSON = "application/json"
ADMIN_PATHS = ("/healthz", "/livez", "/stats", "/metrics", "/signature")
RETRY_AFTER = {"Retry-After": "1"}
CLIENT_CLOSED = 499


def error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(encode({"error": message}), status, headers, JSON)


def _status_of(exc: BaseException) -> int:
    """The exception's integer `status_code` (an int, IntEnum, numpy int) when 400-599."""
    status = getattr(exc, "status_code", None)
    if status is None or isinstance(status, bool):
        return 500
    try:
        code = operator.index(status)
    except TypeError:
        return 500
    return code if 400 <= code <= 599 else 500


def _wants_debug(request: Request) -> bool:
    return request.args.get("debug", "").lower() == "true"


class JsonErrors(ErrorHandler):
    """Every error Sanic raises itself (404, 405, 413, 400...) as a JSON body."""

    def __init__(self, replica: Replica, counted: bool) -> None:
        super().__init__()
        self.replica = replica
        self.counted = counted

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException):
            status, message, headers = _sanic_error(request, exception)
        elif isinstance(exception, asyncio.CancelledError):  # Sanic's RequestCancelled
            # The client closed the connection before the answer: nothing can be sent, and
            # it is no server error. Counted like nginx's 499 (client closed request).
            status, headers = CLIENT_CLOSED, {}
            message = "client closed the connection before the answer"
            where = f"{request.method} {request.path}: " if request is not None else ""
            log.info("%s%s", where, message)
        else:
            status, headers = 500, {}
            message = f"internal error: {describe(exception)}"
            trace = one_line_traceback(exception.__traceback__)
            log.error("%s%s", message, f"; traceback: {trace}" if trace else "")
        if self.counted and (request is None or request.path not in ADMIN_PATHS):
            self.replica.stats.record_status(status)
        return error(status, message, headers)


def _sanic_error(request: Request | None,
                 exception: SanicException) -> tuple[int, str, dict[str, str]]:
    status = exception.status_code
    message = str(exception) or type(exception).__name__
    headers = dict(getattr(exception, "headers", None) or {})
    if request is None:
        return status, message, headers
    if status == 404:
        message = f"not found: {request.method} {request.path}"
    elif status == 405:
        message = f"method not allowed: {request.method} {request.path}"
    elif status == 413 and "header" in message.lower():
        limit = request.app.config.REQUEST_MAX_HEADER_SIZE
        message = f"request headers too large: the limit is {limit} bytes"
    elif status == 413:
        limit = request.app.config.REQUEST_MAX_SIZE
        message = f"request body too large: the limit is {limit} bytes"
    elif status == 503 and message == "Response Timeout":  # Sanic gave up waiting for us
        limit = request.app.config.RESPONSE_TIMEOUT
        message = f"response timeout: no answer within {limit:g} s (SANIC_RESPONSE_TIMEOUT)"
        log.warning("%s %s: %s", request.method, request.path, message)
    elif status == 408:
        limit = request.app.config.REQUEST_TIMEOUT
        message = f"request timeout: the request was not received within {limit:g} s"
    return status, message, headers


def _configure(app: Sanic, max_body_size: int) -> None:
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    app.config.NOISY_EXCEPTIONS = False
    app.config.REQUEST_MAX_SIZE = max_body_size
    app.config.KEEP_ALIVE_TIMEOUT = 75  # above common load balancer idle timeouts


def add_admin_routes(app: Sanic | Blueprint, replica: Replica) -> None:
    registry = prom.make_registry(replica)

    async def healthz(request: Request) -> HTTPResponse:
        if replica.ready and not replica.draining:
            return HTTPResponse(b'{"ok":true}', 200, None, JSON)
        reason = "shutting down" if replica.draining else "starting"
        return HTTPResponse(encode({"ok": False, "reason": reason}), 503, None, JSON)

    async def livez(request: Request) -> HTTPResponse:
        # Liveness: the loop answers (a busy replica's predicts run off the loop), whatever
        # the readiness; restarting a replica that is only starting or draining helps nobody.
        return HTTPResponse(b'{"ok":true}', 200, None, JSON)

    async def stats(request: Request) -> HTTPResponse:
        return HTTPResponse(encode(replica.stats_json()), 200, None, JSON)

    async def metrics(request: Request) -> HTTPResponse:
        return HTTPResponse(prom.render(registry), 200, None, prom.CONTENT_TYPE)

    async def signature(request: Request) -> HTTPResponse:
        if not replica.ready:
            return error(503, "replica is starting", RETRY_AFTER)
        return HTTPResponse(encode({"signature": replica.signature}), 200, None, JSON)

    app.add_route(healthz, "/healthz", methods=["GET", "HEAD"], name="healthz")
    app.add_route(livez, "/livez", methods=["GET", "HEAD"], name="livez")
    app.add_route(stats, "/stats", methods=["GET"], name="stats")
    app.add_route(metrics, "/metrics", methods=["GET"], name="metrics")
    app.add_route(signature, "/signature", methods=["GET"], name="signature")


def make_predict_handler(replica: Replica, parse_budget: int):
    record, ok = replica.stats.record, replica.stats.ok
    notify = replica.notify

    async def predict(request: Request) -> HTTPResponse:
        t0 = perf_counter()
        refuse_space_before_colon(request)
        runner = replica.runner
        if runner is None or not replica.ready:
            return _finish(request, 503, "replica is starting", t0, RETRY_AFTER)
        body = request.body
        debug = bool(request.query_string) and _wants_debug(request)
        if debug:  # before parsing: a body refused as malformed is worth seeing too
            log.info("debug: sample: %s", truncate(body.decode("utf-8", "replace")))
        try:
            check_size(body, parse_budget)
            sample = decode(body)
        except TooLarge as exc:
            return _finish(request, 413, str(exc), t0)
        except Malformed as exc:
            return _finish(request, 400, str(exc), t0)
        inline = runner.inline_now  # a proven-fast sync predict: called here, no coroutine
        if debug and replica.staged:
            sample = Traced(sample)
        try:
            if inline:
                result = runner.predict(sample, runner.metadata)
            else:
                result = await runner.run(sample)
        except Busy as exc:
            return _finish(request, 503, str(exc), t0, RETRY_AFTER)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is None or task.cancelling():  # Sanic cancels us: the client went away
                raise
            return _failed(request, exc, t0, inline)  # raised by predict itself
        except BaseException as exc:  # sys.exit() or KeyboardInterrupt in predict: still a 500
            return _failed(request, exc, t0, inline)
        try:
            out = encode(result)
        except Exception as exc:  # TypeError, ValueError (NaN), RecursionError, a bad tolist()
            message = f"prediction not serialisable: {describe(exc)}"
            log.error("%s", message)
            return _finish(request, 500, message, t0)
        if debug:
            log.info("debug: prediction: %s", truncate(out.decode()))
        tracker = replica.tracker
        tracked = tracker.observe(result) if tracker is not None else None
        latency = perf_counter() - t0
        if inline:  # the whole request's time: an upper bound of predict's, one timer less
            runner.inline_took(latency)
        ok(latency)
        if replica.observers:
            notify(200, 1000.0 * latency, tracked)
        if replica.draining:
            request.stream.keep_alive = False  # type: ignore[union-attr]
        return HTTPResponse(out, 200, None, JSON)

    def _failed(request: Request, exc: BaseException, t0: float,
                inline: bool) -> HTTPResponse:
        exit_if_out_of_memory(exc)
        if inline:
            replica.runner.inline_took(perf_counter() - t0)  # type: ignore[union-attr]
        status = _status_of(exc)
        message = f"prediction failed: {describe(exc)}"
        log.log(logging.WARNING if status < 500 else logging.ERROR,
                "%s (status %d); traceback: %s", message, status,
                one_line_traceback(exc.__traceback__))
        return _finish(request, status, message, t0)

    def _finish(request: Request, status: int, message: str, t0: float,
                headers: dict[str, str] | None = None) -> HTTPResponse:
        latency = perf_counter() - t0
        record(status, latency)
        if replica.observers:
            notify(status, 1000.0 * latency, None)
        if replica.draining:  # the last answer on this connection: we are closing
            request.stream.keep_alive = False  # type: ignore[union-attr]
        return error(status, message, headers)

    return predict


def refuse_space_before_colon(request: Request) -> None:
    """RFC 9112 5.1: no whitespace between a header's name and its colon, and a server must
    answer 400: a proxy in front may read `Transfer-Encoding : chunked` or `Host : x` as the
    header Sanic ignores, or the other way round (request smuggling)."""
    head = request.head
    if b" :" not in head and b"\t:" not in head:  # one scan of the raw head: the usual case
        return
    for name in request.headers:
        if name[-1:].isspace():
            raise BadRequest(f"whitespace before the colon in header {name.strip()!r}")


def build_serving_app(replica: Replica, max_body_size: int, parse_budget: int,
                      with_admin: bool = True) -> Sanic:
    app = Sanic("cortex_predictor", error_handler=JsonErrors(replica, counted=True))
    _configure(app, max_body_size)
    # Every serving route refuses whitespace before a header's colon: the predict handler
    # checks itself (a request hook costs ~3 % of a fast prediction's CPU), the admin routes
    # through their blueprint's hook.
    handler = make_predict_handler(replica, parse_budget)
    app.add_route(handler, "/predict", methods=["POST"], name="predict")
    if replica.api != "predict":  # an API named "stats": POST /stats predicts, GET reads
        app.add_route(handler, f"/{replica.api}", methods=["POST"], name="predict_by_name")
    if with_admin:
        admin = Blueprint("serving_admin")
        admin.on_request(refuse_space_before_colon)
        add_admin_routes(admin, replica)
        app.blueprint(admin)
    return app


def build_admin_app(replica: Replica) -> Sanic:
    app = Sanic("cortex_predictor_admin", error_handler=JsonErrors(replica, counted=False))
    _configure(app, 64 * 1024)
    # TouchUp rewrites Sanic's shared Http class once per process: the serving app does it.
    app.config.TOUCHUP = False
    add_admin_routes(app, replica)
    return app
