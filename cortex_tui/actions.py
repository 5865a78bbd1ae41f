"""User actions written once, for the CLI and the TUI alike (no Textual here): scale (check the
rules, apply through the backend, write the new bounds back to cortex.yaml), save-and-deploy
from the editor, and the words of a deploy result."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from cortex_tui.config.atomic import write_text_atomic
from cortex_tui.config.model import Compute, Problem
from cortex_tui.config.scaling import SCALE_KEYS, ScaleError, apply_scale
from cortex_tui.config.writeback import WritebackError, write_scale
from cortex_tui.errors import describe_error
from cortex_tui.interface import Backend
from cortex_tui.types import ApiState, DeployChange, DeployResult, ScaleRequest


# ------------------------------------------------------------------------------------ scale
@dataclass(frozen=True)
class ScaleOutcome:
    state: ApiState  # the API after scaling
    changed: dict[str, int]  # every bound that moved (init may follow min)
    not_written: str | None = None  # why cortex.yaml does not hold them; None: written/not asked


def check_scale(state: ApiState, request: ScaleRequest) -> Compute:
    """The bounds `request` gives `state`, or ScaleError naming the rule that refuses them."""
    current = Compute(**{key: getattr(state, key) for key in SCALE_KEYS},
                      autoscale_on="in_flight" if state.autoscale_on == "in_flight" else "cpu")
    return apply_scale(current, **asdict(request))


def scale(backend: Backend, api: str, request: ScaleRequest, *, before: ApiState | None = None,
          config_file: Path | None = None) -> ScaleOutcome:
    """Check, scale through the backend, then write every bound that moved to `config_file`
    (when given). A refused request changes nothing; a failed write-back keeps the scale."""
    before = before if before is not None else backend.get(api)[0]
    try:
        check_scale(before, request)
    except ScaleError as exc:
        raise ScaleError(f'api "{api}": {exc}') from None
    state = backend.scale(api, request)
    changed = {key: getattr(state, key) for key in SCALE_KEYS
               if getattr(state, key) != getattr(before, key)}
    if config_file is None:
        return ScaleOutcome(state, changed)
    try:
        if not config_file.exists():
            raise WritebackError(f"{config_file} does not exist")
        write_scale(config_file, api, changed)
    except WritebackError as exc:
        return ScaleOutcome(state, changed, str(exc))
    return ScaleOutcome(state, changed)


# ------------------------------------------------------------------------------------ deploy
@dataclass(frozen=True)
class DeployOutcome:
    text: str
    saved: bool  # the file now holds `text`
    result: DeployResult | None = None
    problems: tuple[Problem, ...] = ()  # refused before saving
    error: str | None = None  # the target refused or could not be reached


def validate(text: str, config_path: Path) -> list[Problem]:
    from cortex_tui.config import validate_text

    _project, problems = validate_text(text, config_path.parent, config_path.name)
    return list(problems)


def save_and_deploy(text: str, config_path: Path, backend: Backend) -> DeployOutcome:
    """Validate, save, deploy. An invalid text is neither saved nor deployed. An OSError while
    saving propagates (nothing saved); a failed deploy keeps the save and says why."""
    from cortex_tui.config import load_project

    problems = validate(text, config_path)
    if problems:
        return DeployOutcome(text, saved=False, problems=tuple(problems))
    write_text_atomic(config_path, text)
    try:
        return DeployOutcome(text, saved=True, result=backend.deploy(load_project(config_path)))
    except Exception as exc:  # shown in the results panel; the save stands
        return DeployOutcome(text, saved=True, error=describe_error(exc))


def describe_change(change: DeployChange) -> str:
    """One line per API, in the words of the original platform's messages."""
    if change.action == "created":
        return f"creating {change.api} api"
    if change.action == "updated":
        why = f" ({change.message})" if change.message else ""
        return f"updating {change.api} api{why}"
    if change.action == "deleted":
        return f"deleting {change.api} api"
    return f"{change.api} api is up to date"


def deploy_summary(result: DeployResult) -> str:
    if not result.changes:
        return "nothing to deploy"
    return "\n".join(describe_change(c) for c in result.changes)
