"""Structure checks anyone can run: `python tests/check_structure.py` (exit 1 and a list if any fail).

- no module imports a private name (`_x`) from another module of the package;
- no import cycle between modules of the package (counting imports inside functions too);
- no function in `serve/` is longer than 80 lines.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "llm_practice"
PACKAGE = "llm_practice"
MAX_SERVE_FUNCTION_LINES = 80


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of a package module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.startswith(PACKAGE)]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, path.name == "__init__.py", node)
            if not target.startswith(PACKAGE):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, None, node.lineno) if sub in known else (target, alias.name, node.lineno))
    return found


def private_imports(known: dict[str, Path]) -> list[str]:
    problems = []
    for name, path in known.items():
        for target, imported, line in imports(name, path, known):
            dunder = imported and imported.startswith("__") and imported.endswith("__")
            if imported and imported.startswith("_") and not dunder and target != name:
                problems.append(f"{path}:{line}: imports private name '{imported}' from {target}")
    return problems


def import_cycles(known: dict[str, Path]) -> list[str]:
    graph = {name: sorted({t for t, _, _ in imports(name, path, known) if t in known and t != name})
             for name, path in known.items()}
    # A package's __init__ re-exporting its own submodules is not a cycle of code.
    graph = {n: [t for t in ts if not (known[n].name == "__init__.py" and t.startswith(n + "."))]
             for n, ts in graph.items()}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append("import cycle: " + " -> ".join(sorted(component)))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def long_serve_functions(root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / "serve").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - first + 1
                if length > MAX_SERVE_FUNCTION_LINES:
                    problems.append(f"{path}:{node.lineno}: function '{node.name}' has {length} lines "
                                    f"(at most {MAX_SERVE_FUNCTION_LINES} in serve/)")
    return problems


def check(root: Path = ROOT) -> list[str]:
    known = modules(root)
    return private_imports(known) + import_cycles(known) + long_serve_functions(root)


if __name__ == "__main__":
    problems = check()
    print("\n".join(problems) or "structure ok")
    sys.exit(1 if problems else 0)
