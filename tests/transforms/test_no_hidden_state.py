"""transforms/ takes what it needs as arguments: no module reads the environment or keeps a
module-level variable that a call rebinds (`global`)."""

from __future__ import annotations

import ast
from pathlib import Path

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            found.append(f"{path.name}:{node.lineno} os.{node.attr}")
        elif isinstance(node, ast.Global):
            found.append(f"{path.name}:{node.lineno} global {', '.join(node.names)}")
    return found


def test_no_transform_reads_the_environment_or_rebinds_a_global():
    files = sorted(TRANSFORMS.rglob("*.py"))
    assert len(files) > 20
    assert [o for path in files for o in _offences(path)] == []


def test_the_check_sees_an_offence(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("import os\nX = 0\ndef f():\n    global X\n    return os.environ['A']\n")
    assert _offences(module) == ["m.py:4 global X", "m.py:5 os.environ"]
