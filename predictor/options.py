"""Command-line and environment options of one replica process."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8888
DEFAULT_GRACE_SECONDS = 30.0
KUBERNETES_TERMINATION_LOG = "/dev/termination-log"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Options:
    project: str
    api: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    admin_port: int | None = None
    reuse_port: bool = False
    listen_fd: int | None = None  # serve on this inherited listening socket (the local operator)
    replica: str = ""
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    termination_log: str | None = None
    inline_fast_predict: bool = True


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {text} (0-65535)")
    return port


EPILOG = """\
environment only:
  CORTEX_REPLICA               replica name in logs and /stats [hostname-pid]
  CORTEX_GRACE_SECONDS         SIGTERM: how long requests in flight may finish [30]
  CORTEX_TERMINATION_LOG       file receiving the fatal start-up message
                               [/dev/termination-log inside Kubernetes]
  CORTEX_INLINE_FAST_PREDICT   0: never call a sync predict on the event loop
  CORTEX_OBSERVERS             module:factory,... observers of finished requests
  CORTEX_CLOUDWATCH_NAMESPACE  publish metrics to CloudWatch

flags win over variables. exit status: 0 after a SIGTERM/SIGINT drain, 1 when the replica
cannot start (one ERROR line), 2 for bad usage, 130 after a second SIGINT.
"""


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m predictor",
        description="Serve one API of a cortex-tui project (one replica).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--project", default=env.get("CORTEX_PROJECT"),
                   help="project folder or its cortex.yaml [$CORTEX_PROJECT]")
    p.add_argument("--api", default=env.get("CORTEX_API"), help="API name [$CORTEX_API]")
    p.add_argument("--host", default=env.get("CORTEX_HOST", DEFAULT_HOST),
                   help="address to bind [$CORTEX_HOST, 127.0.0.1]")
    p.add_argument("--port", type=_port,
                   help="serving port, 0 for any free one [$CORTEX_PORT, 8888]")
    p.add_argument("--admin-port", type=_port,
                   help="private port for /healthz /stats /metrics [$CORTEX_ADMIN_PORT]")
    p.add_argument("--reuse-port", action="store_true",
                   default=_flag(env.get("CORTEX_REUSE_PORT")),
                   help="bind the serving port with SO_REUSEPORT, after init [$CORTEX_REUSE_PORT]")
    p.add_argument("--listen-fd", type=_fd,
                   help="serve on this inherited socket (bound by the parent; --host/--port "
                   "ignored), accepting only after init [$CORTEX_LISTEN_FD]")
    return p


def _fd(text: str) -> int:
    try:
        fd = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a file descriptor number: {text!r}") from None
    if fd < 3:
        raise argparse.ArgumentTypeError(f"not an inherited socket: {fd} (0-2 are stdio)")
    return fd


def parse_options(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> Options:
    """Parse argv with environment fallbacks; exits 2 with a message on bad usage."""
    env = os.environ if env is None else env
    parser = _parser(env)
    args = parser.parse_args(argv)
    if not args.project:
        parser.error("--project (or CORTEX_PROJECT) is required")
    if not args.api:
        parser.error("--api (or CORTEX_API) is required")

    def from_env(value: int | None, name: str, convert: Callable[[str], int],
                 default: int | None) -> int | None:
        """The flag's value, else the variable's, checked like the flag and named if bad."""
        if value is not None:
            return value
        text = env.get(name, "").strip()
        if not text:
            return default
        try:
            return convert(text)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{name}: {exc}")

    port = from_env(args.port, "CORTEX_PORT", _port, DEFAULT_PORT)
    admin_port = from_env(args.admin_port, "CORTEX_ADMIN_PORT", _port, None)
    listen_fd = from_env(args.listen_fd, "CORTEX_LISTEN_FD", _fd, None)
    if listen_fd is not None and args.reuse_port:
        parser.error("--listen-fd and --reuse-port exclude each other")
    try:
        grace = float(env.get("CORTEX_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))
    except ValueError:
        parser.error(f"CORTEX_GRACE_SECONDS must be a number (got {env['CORTEX_GRACE_SECONDS']!r})")
    return Options(
        project=args.project,
        api=args.api,
        host=args.host,
        port=DEFAULT_PORT if port is None else port,
        admin_port=admin_port,
        reuse_port=bool(args.reuse_port),
        listen_fd=listen_fd,
        replica=env.get("CORTEX_REPLICA") or f"{socket.gethostname()}-{os.getpid()}",
        grace_seconds=max(0.0, grace),
        termination_log=termination_log_path(env),
        inline_fast_predict=env.get("CORTEX_INLINE_FAST_PREDICT", "1").strip().lower() in _TRUE,
    )


def termination_log_path(env: Mapping[str, str]) -> str | None:
    """Where a fatal start-up error is written: explicit, or Kubernetes' default in a pod."""
    if env.get("CORTEX_TERMINATION_LOG"):
        return env["CORTEX_TERMINATION_LOG"]
    if env.get("KUBERNETES_SERVICE_HOST"):
        return KUBERNETES_TERMINATION_LOG
    return None
