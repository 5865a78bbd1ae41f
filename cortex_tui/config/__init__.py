"""cortex.yaml: loading, validation and the typed model of a project.

    load_project(path) -> Project            raises ConfigError holding every Problem
    validate_project(path) -> (Project | None, [Problem])
    validate_text(text, root, filename="cortex.yaml") -> (Project | None, [Problem])
"""

from cortex_tui.config.loader import (
    default_deployment_name,
    load_project,
    validate_project,
    validate_text,
)
from cortex_tui.config.model import (
    ApiSpec,
    Compute,
    ConfigError,
    Problem,
    Project,
    Tracker,
)

__all__ = [
    "ApiSpec",
    "Compute",
    "ConfigError",
    "Problem",
    "Project",
    "Tracker",
    "default_deployment_name",
    "load_project",
    "validate_project",
    "validate_text",
]
