"""Test tiers are folders: every test module lives in `tests/unit/`, `tests/component/` or `tests/integration/` of its
package (or of the repository), and is marked by that folder, so `-m unit`, `-m "not integration"` select by tier
without a `pytestmark` in every file.

- unit: one module or function in-process, on values or temporary files; no subprocess, no network.
- component: a package through its real entry point with local stand-ins: the CLI runner, FastStream's in-memory
  broker, worker processes, GnuPG; no Kafka, PostgreSQL or SFTP server.
- integration: the real Kafka, PostgreSQL or SFTP server (the fixtures start the local ones when absent).

A test module outside a tier folder, one whose basename another test module already has, or a test marked with a
tier other than its folder's fails collection, naming the file and the rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["relais_testing.fixtures"]

TIERS = ("unit", "component", "integration")
# Not in tier folders yet: each service's tests move into them with the service's own restructuring, and its entry
# leaves this list then. Until then their modules keep their explicit `integration` markers.
UNTIERED_YET = ("services",)

_SEEN: pytest.StashKey[dict[str, Path]] = pytest.StashKey()


def tier_of(path: Path) -> str | None:
    """`unit` for `…/tests/unit/…/test_x.py`, and so on; None outside a tier folder."""
    parts = path.parts
    for index, part in enumerate(parts[:-1]):
        if part == "tests" and index + 1 < len(parts) - 1 and parts[index + 1] in TIERS:
            return parts[index + 1]
    return None


class MisplacedTestModule(pytest.File):
    """Stands for a test module that breaks a placement rule: collecting it fails with the reason."""

    reason = ""

    def collect(self) -> list[pytest.Item]:
        raise self.CollectError(f"{self.path}: {self.reason}")


def _misplaced(parent: pytest.Collector, path: Path, reason: str) -> MisplacedTestModule:
    module = MisplacedTestModule.from_parent(parent, path=path)
    module.reason = reason
    return module


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEEN] = {}


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if module_path.name == "conftest.py":
        return None
    relative = module_path.relative_to(parent.config.rootpath)
    seen = parent.config.stash[_SEEN]
    other = seen.setdefault(module_path.name, relative)
    if other != relative:
        return _misplaced(
            parent, module_path, f"test module basenames are unique in the repository; {other} has it"
        )
    if tier_of(relative) is None and relative.parts[0] not in UNTIERED_YET:
        return _misplaced(
            parent,
            module_path,
            "not in a tier folder: test modules live in tests/unit/, tests/component/ or tests/integration/ of "
            "their package (see the root conftest.py)",
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path.relative_to(config.rootpath))
        if tier is None:
            continue
        declared = {mark.name for mark in item.iter_markers() if mark.name in TIERS} - {tier}
        if declared:
            raise pytest.UsageError(
                f"{item.nodeid} is in tests/{tier}/ but marked {', '.join(sorted(declared))}: move it to that folder"
            )
        item.add_marker(getattr(pytest.mark, tier))
