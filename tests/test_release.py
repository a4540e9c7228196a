"""Release habits that drift when nobody looks: the version has a changelog section, the license is declared where
the build reads it, and pre-commit runs the ruff that pyproject pins. (pyproject is read as text: tomllib is
Python 3.11+, and the suite runs on 3.10 too.)"""

from __future__ import annotations

import re
from pathlib import Path

import minigrad

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_line(key: str) -> str:
    """The value text of ``key = ...`` (one line) in pyproject.toml."""
    (value,) = re.findall(rf"^{re.escape(key)} = (.+)$", (ROOT / "pyproject.toml").read_text(), flags=re.M)
    return value.split("  #")[0].strip()


def test_the_version_has_a_changelog_section():
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    assert minigrad.__version__ in headings, f"CHANGELOG.md has no section for {minigrad.__version__}: {headings}"
    released = headings[1:] if headings[0] == "Unreleased" else headings  # Keep a Changelog's section for main
    assert released[0] == minigrad.__version__, "the newest released CHANGELOG section is the current version"
    assert "Unreleased" not in released, "only the first section may be [Unreleased]"


def test_the_license_is_an_spdx_expression_with_its_file():
    assert _pyproject_line("license") == '"MIT"'
    assert _pyproject_line("license-files") == '["LICENSE"]'
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # the first setuptools that reads an SPDX license and license-files
    assert _pyproject_line("requires") == '["setuptools>=77"]'


def test_pre_commit_runs_the_ruff_pyproject_pins():
    (pinned,) = re.findall(r'"(ruff==[^"]+)"', _pyproject_line("dev"))
    hooks = re.findall(r'additional_dependencies: \["(ruff[^"]*)"\]', (ROOT / ".pre-commit-config.yaml").read_text())
    assert hooks and set(hooks) == {pinned}, f"pre-commit runs {hooks}, pyproject pins {pinned}"


def test_the_commit_msg_hook_refuses_a_subject_over_72_characters(tmp_path):
    import subprocess
    import sys

    hook = Path(__file__).resolve().parents[1] / ".ci" / "commit_subject.py"
    for subject, rc in (("x" * 72, 0), ("x" * 73, 1)):
        msg = tmp_path / "COMMIT_EDITMSG"
        msg.write_text(subject + "\n\n" + "a body line may be longer than the subject " * 3 + "\n")
        assert subprocess.run([sys.executable, str(hook), str(msg)], capture_output=True).returncode == rc
