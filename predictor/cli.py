"""`python -m predictor`: load the API's validated config and serve it."""

from __future__ import annotations

from predictor.logs import setup_logging
from predictor.options import parse_options


def main(argv: list[str] | None = None) -> int:
    opts = parse_options(argv)
    setup_logging(opts.replica)
    from cortex_tui.config import ConfigError, load_project
    from predictor.server import fatal, serve

    try:
        project = load_project(opts.project)
    except ConfigError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        return fatal(opts, f"invalid project {opts.project}: {problems}")
    try:
        spec = project.api(opts.api)
    except KeyError:
        names = ", ".join(project.api_names) or "none"
        return fatal(opts, f"{project.config_file}: no api named {opts.api!r} (apis: {names})")
    return serve(opts, project.root, spec, project.deployment_name)
