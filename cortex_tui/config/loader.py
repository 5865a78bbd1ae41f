"""From cortex.yaml text to a validated `Project`, or every problem with its position."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.config.model import CONFIG_FILENAME, ConfigError, Problem, Project
from cortex_tui.config.validator import Validator, default_deployment_name

__all__ = ["default_deployment_name", "load_project", "validate_project", "validate_text"]

Result = tuple[Project | None, list[Problem]]


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
        root = config_file.parent
        raw = config_file.read_bytes()
    except FileNotFoundError:
        folder = config_file.parent
        if folder.is_dir():
            message = f"file not found in {folder.absolute()} (-p PATH names another project)"
        else:
            message = f"folder not found: {folder}"
        return None, [Problem(str(config_file), 1, 1, None, "", message)]
    except (OSError, ValueError) as exc:
        return None, [Problem(str(given), 1, 1, None, "", f"cannot be read: {exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [Problem(config_file.name, line, column, None, "",
                              f"not a UTF-8 text file (byte 0x{raw[exc.start]:02x})")]
    return validate_text(text, root, config_file.name)


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
    return (project if not problems else None), problems
