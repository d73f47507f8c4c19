"""The packages import downwards only: a library never reaches up into what builds on it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from kefu.config import PROJECT_ROOT

# (package, what it must not import): every import of the package's files, lazy ones included.
FORBIDDEN = [
    ("kefu/generation", ("kefu.translation", "kefu.answering", "actions")),
    ("kefu/translation", ("kefu.answering", "actions")),
    ("kefu/knowledge", ("kefu.answering", "kefu.generation", "actions")),
    ("kefu/shop", ("actions", "tests")),
    # The store keeps data and rules; it reads no customer text. (Approving a review still writes
    # its plan through kefu.shop.changes from kefu/store/desk.py: the one call upwards left.)
    ("kefu/store", ("kefu.shop.wording", "kefu.understanding", "kefu.nlu", "actions", "tests")),
    ("kefu/understanding", ("kefu.shop", "actions", "tests")),
    ("kefu", ("tests",)),
    ("benchmarks", ("tests",)),
]


def imports(path: Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


@pytest.mark.parametrize("package,forbidden", FORBIDDEN, ids=[package for package, _ in FORBIDDEN])
def test_a_package_does_not_import_what_builds_on_it(package: str, forbidden: Tuple[str, ...]) -> None:
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {name}"
        for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
        for line, name in imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert wrong == []
