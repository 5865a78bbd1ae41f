"""From cortex.yaml text to a validated `Project`, or every problem with its position."""

from __future__ import annotations

import codecs
import stat
from pathlib import Path

from cortex_tui.config.model import CONFIG_FILENAME, ConfigError, Problem, Project
from cortex_tui.config.validator import Validator, default_deployment_name
from cortex_tui.config.yamlpos import MAX_CHARS, position_of_byte

__all__ = ["default_deployment_name", "load_project", "problem_count", "validate_project",
           "validate_text"]

Result = tuple[Project | None, list[Problem]]
MAX_BYTES = 4 * MAX_CHARS  # UTF-8 takes up to 4 bytes a character; load_yaml counts those
MAX_PROBLEMS = 200  # listed; the rest are counted in one last line
_NOT_LISTED = " more problems (not listed)"


def load_project(path: str | Path) -> Project:
    """The validated project at `path` (its folder or its cortex.yaml); ConfigError otherwise."""
    project, problems = validate_project(path)
    if project is None:
        raise ConfigError(problems)
    return project


def validate_project(path: str | Path) -> Result:
    """Validate a project folder (or its cortex.yaml file) on disk."""
    given = Path(path)
    try:
        config_file = given / CONFIG_FILENAME if given.is_dir() else given
        if config_file is given and given.suffix not in (".yaml", ".yml") and not given.exists():
            config_file = given / CONFIG_FILENAME  # a folder that does not exist
        raw = _read_config(config_file)
    except FileNotFoundError:
        folder = config_file.parent
        if folder.is_dir():
            message = f"file not found in {folder.absolute()} (-p PATH names another project)"
        else:
            message = f"folder not found: {folder}"
        return None, [Problem(str(config_file), 1, 1, None, "", message)]
    except _Unreadable as exc:
        return None, [Problem(str(config_file), 1, 1, None, "", str(exc))]
    except (OSError, ValueError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else exc
        return None, [Problem(str(given), 1, 1, None, "", f"cannot be read: {reason}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = position_of_byte(raw, exc.start)
        message = f"not a UTF-8 text file (byte 0x{raw[exc.start]:02x})"
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            message = "is UTF-16 text: save it as UTF-8"  # Windows editors' "Unicode"
        return None, [Problem(config_file.name, line, column, None, "", message)]
    return validate_text(text, config_file.parent, config_file.name)


class _Unreadable(Exception):
    """A cortex.yaml path that is not a regular file of sane size; the message says why."""


def _read_config(config_file: Path) -> bytes:
    """The file's bytes, refusing folders, pipes and devices (reading them would block or
    never end) and files far too large to be a cortex.yaml."""
    info = config_file.stat()
    if stat.S_ISDIR(info.st_mode):
        raise _Unreadable("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise _Unreadable("is not a regular file (a pipe, socket or device)")
    if info.st_size > MAX_BYTES:
        raise _Unreadable(f"too large: {info.st_size} bytes (a cortex.yaml holds settings, "
                          "not data)")
    with config_file.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:  # it grew after stat()
        raise _Unreadable(f"too large: more than {MAX_BYTES} bytes (a cortex.yaml holds "
                          "settings, not data)")
    return raw


def validate_text(text: str, root: str | Path, filename: str = CONFIG_FILENAME) -> Result:
    """Validate cortex.yaml `text` (possibly unsaved) of the project folder `root`."""
    root = Path(root).absolute()  # the local operator and replicas run from other folders
    validator = Validator(text, root, filename)
    project = validator.run()
    # cortex.yaml's problems first, then each inference file's, each in file order.
    problems = sorted(
        set(validator.problems),
        key=lambda p: (p.file != filename, p.file, p.line, p.column, p.api or "", p.path,
                       p.message),
    )
    return (project if not problems else None), _capped(problems)


def _capped(problems: list[Problem]) -> list[Problem]:
    """The first MAX_PROBLEMS, then one line with how many more (at the first of them)."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = problems[MAX_PROBLEMS]
    return [*problems[:MAX_PROBLEMS], Problem(
        more.file, more.line, more.column, None, "",
        f"and {len(problems) - MAX_PROBLEMS}{_NOT_LISTED}")]


def problem_count(problems: list[Problem]) -> int:
    """How many problems were found, counting those a capped list leaves out."""
    if len(problems) == MAX_PROBLEMS + 1 and problems[-1].message.endswith(_NOT_LISTED):
        return MAX_PROBLEMS + int(problems[-1].message.split()[1])
    return len(problems)
