"""The README's promises hold: every `flask ...` command it names exists, and the Makefile has its two targets."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

import config

ROOT = Path(config.ROOT)
README = (ROOT / "README.md").read_text()


def _documented_commands() -> set[tuple[str, ...]]:
    found = set()
    for match in re.finditer(r"flask ((?:[a-z][a-z-]*(?:\\?\|[a-z][a-z-]*)*)(?: [a-z][a-z-]*(?:\\?\|[a-z][a-z-]*)*)?)",
                             README):
        words = match.group(1).split(" ")
        group = words[0]
        if len(words) == 1:
            found.add((group,))
            continue
        for sub in re.split(r"\\?\|", words[1]):
            found.add((group, sub))
        for alt in re.split(r"\\?\|", group)[1:]:
            found.add((alt,))
    return found


def _resolve(app, path: tuple[str, ...]):
    ctx = click.Context(app.cli)
    command = app.cli.get_command(ctx, path[0])
    for name in path[1:]:
        if not isinstance(command, click.Group):
            return None
        command = command.get_command(ctx, name)
    return command


def test_readme_names_real_commands(app):
    documented = _documented_commands()
    assert ("backup", "create") in documented and ("keys", "rotate") in documented
    missing = [" ".join(path) for path in sorted(documented) if _resolve(app, path) is None]
    assert not missing, f"README documents commands that do not exist: {missing}"


@pytest.mark.parametrize("target", ["run", "test"])
def test_makefile_has_the_two_commands(target):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{target}:", makefile, re.M)
    assert f"make {target}" in README
