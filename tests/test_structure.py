"""The structure checks of `tests/check_structure.py` pass, and they do catch what they look for."""

from __future__ import annotations

from .check_structure import check


def test_the_package_has_no_private_imports_cycles_or_long_serve_functions():
    assert check() == []


def _package(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checks_find_a_cycle_a_private_import_and_a_long_function(tmp_path):
    long_body = "\n".join(f"    x{i} = {i}" for i in range(85))
    root = _package(tmp_path / "llm_practice", {
        "__init__.py": "",
        "a.py": "from .b import helper\n",
        "b.py": "def helper():\n    from .a import thing\n",  # a lazy import still closes the cycle
        "c.py": "from .b import _hidden\n",
        "serve/__init__.py": "",
        "serve/app.py": f"def create_app():\n{long_body}\n",
    })
    problems = check(root)
    assert any("import cycle: llm_practice.a -> llm_practice.b" in p for p in problems), problems
    assert any("c.py:1: imports private name '_hidden' from llm_practice.b" in p for p in problems)
    assert any("function 'create_app' has 86 lines" in p for p in problems)
    assert len(problems) == 3


def test_sources_and_stages_are_defined_once_and_agree():
    from llm_practice.data.validate import STAGE_KINDS
    from llm_practice.workflow import SOURCE_LABELS, SOURCES, STAGES, Source, Stage

    assert set(STAGE_KINDS) == set(STAGES) and Stage.__args__ == STAGES
    assert Source.__args__ == SOURCES and set(SOURCE_LABELS) == set(SOURCES)
