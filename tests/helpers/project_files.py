"""A project folder with what a deploy must leave out or follow: secrets, a .cortexignore,
links inside the project (a file, a folder) and, optionally, a link leaving it."""

from __future__ import annotations

from pathlib import Path

SECRETS = (".env", ".netrc", ".aws/credentials", ".ssh/id_rsa", "sub/.env.local")
SHIPPED = ["cortex.yaml", "inference.py", "linked.py", "linked_pkg/__init__.py",
           "linked_pkg/util.py", "pkg/__init__.py", "pkg/util.py", ".cortexignore",
           ".env.example"]


def add_hostile_files(root: Path) -> None:
    """Secrets and links beside a project's cortex.yaml and inference.py (shipped: SHIPPED)."""
    for secret in SECRETS:
        (root / secret).parent.mkdir(parents=True, exist_ok=True)
        (root / secret).write_text("TOKEN=secret\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "linked_pkg").symlink_to("pkg")  # a folder link inside the project: followed
    (root / "linked.py").symlink_to("pkg/util.py")
    (root / "data.csv").write_text("big,data\n")
    (root / ".env.example").write_text("TOKEN=\n")  # a default excludes it, ours takes it back
    (root / ".cortexignore").write_text("# ours\ndata.csv\n!.env.example\n")


def add_outside_link(root: Path, outside: Path) -> Path:
    """A link from the project to a file outside it; returns the link."""
    outside.write_text("root:*:19000:0:99999:7:::\n")
    link = root / "shadow"
    link.symlink_to(outside)
    return link
