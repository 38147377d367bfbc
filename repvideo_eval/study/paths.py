"""The one containment rule for files a study serves: inside a run folder, symlinks resolved.

Kept apart from `runs` (which needs pandas) so the server checks its plan without importing it.
"""

from __future__ import annotations

from pathlib import Path


def is_inside(path: Path, folder: Path) -> bool:
    """Whether `path` lies inside `folder` once both are resolved (symlinks followed)."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())
