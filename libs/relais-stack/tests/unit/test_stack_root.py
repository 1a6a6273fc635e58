"""Finding the checkout and the local state directory."""

from pathlib import Path

import pytest

from relais_stack import deploy_dir, migrations_dir, project_root, var_dir


def test_the_checkout_is_found_from_any_folder_inside_it() -> None:
    root = project_root()
    assert project_root(root / "libs" / "relais-stack" / "src") == root
    assert (deploy_dir() / "kafka" / "kafka.sh").is_file()
    assert any(migrations_dir().glob("0001_*.sql"))


def test_outside_the_checkout_the_installed_package_still_finds_it(tmp_path: Path) -> None:
    # An editable install lives in the checkout: run from elsewhere, the package's own location tells.
    assert project_root(tmp_path) == project_root()


def test_local_state_is_where_relais_var_dir_says_else_the_checkouts_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAIS_VAR_DIR", str(tmp_path / "state"))
    assert var_dir() == tmp_path / "state"
    monkeypatch.delenv("RELAIS_VAR_DIR")
    assert var_dir() == project_root() / "var"
