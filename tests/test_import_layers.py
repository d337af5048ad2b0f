"""Nothing flows backwards between the corpus layers: read from the source, without importing anything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ASR = Path(__file__).resolve().parents[1] / "asr"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, ``from a import b`` counted as ``a`` and ``a.b`` (b may be a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("data", "asr.corpora"),  # manifests, datasets and shards do not depend on corpus preparation
        ("corpora", "asr.corpora.synth"),  # the importers of recorded corpora do not depend on synthesis
    ],
)
def test_a_layer_does_not_import_the_one_built_on_it(folder: str, forbidden: str) -> None:
    files = sorted((ASR / folder).glob("*.py"))
    assert files
    offending = {
        f"{path.relative_to(ASR.parent)}: {module}"
        for path in files
        for module in _imports(path)
        if module == forbidden or module.startswith(forbidden + ".")
    }
    assert not offending, sorted(offending)
