"""The layout says how a message travels, and the imports keep to it (DESIGN.md, "Which way the code points").

CLI (yinling) → channels (gateway, phone) → assistant → engines and domain (voice, services, zhtext,
and the Rasa side: actions, components, rasa_ext) → common. Read with `ast` from the files themselves,
so an import added anywhere (inside a function too) is seen; `if TYPE_CHECKING:` imports are not
imports at run time and are left out.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
# package → the directory it lives in (bot/components is imported as `components`, as Rasa loads it)
PACKAGES = {name: ROOT / name for name in
            ("common", "zhtext", "services", "voice", "actions", "rasa_ext", "assistant", "gateway", "phone",
             "yinling")}
PACKAGES["components"] = ROOT / "bot" / "components"

# what each package may import of ours; everything else runs against the direction
ALLOWED = {
    "common": set(),
    "zhtext": {"common"},
    "services": {"common", "zhtext"},
    "voice": {"common", "zhtext"},
    "actions": {"common", "services", "zhtext"},
    "components": {"common", "zhtext"},
    "rasa_ext": {"common", "zhtext"},
    "assistant": {"common", "services", "voice", "zhtext"},
    "gateway": {"common", "assistant", "services", "voice", "zhtext"},
    "phone": {"common", "assistant", "services", "voice", "zhtext"},
    "yinling": set(PACKAGES) - {"yinling"},
}


def _module_name(package: str, path: Path) -> str:
    rel = path.relative_to(PACKAGES[package]).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(pkg, path): path for pkg, base in PACKAGES.items() for path in base.rglob("*.py")}


MODULES = _modules()


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes inside `if TYPE_CHECKING:` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def _resolve(name: str) -> str | None:
    """The module of ours `name` is, or the nearest package of ours holding it; None if not ours."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the submodule when there is one, else the package itself
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def _violations() -> list[str]:
    out = []
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            a, b = _top(module), _top(target)
            if a != b and b not in ALLOWED[a]:
                out.append(f"{module} imports {target} ({a} → {b} runs against the layout)")
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each a loop of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_imports_point_one_way():
    assert _violations() == []


def test_no_import_loop_between_files():
    assert _cycles(GRAPH) == []


def test_no_import_loop_between_packages():
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in GRAPH.items():
        packages[_top(module)] |= {_top(t) for t in targets if _top(t) != _top(module)}
    assert _cycles(packages) == []


@pytest.mark.parametrize("bad, why", [
    ("import gateway.app", "phone → gateway"),
    ("from services.facade import Services", "voice → services"),
])
def test_the_check_sees_a_wrong_import(tmp_path, bad, why):
    """The checker itself: a wrong import is reported (so a green run means something)."""
    package = "phone" if why.startswith("phone") else "voice"
    path = PACKAGES[package] / "_layout_probe.py"
    module = _module_name(package, path)
    MODULES[module] = path
    try:
        path.write_text(bad + "\n")
        GRAPH[module] = _imports(module, path)
        assert any(v.startswith(module) for v in _violations()), why
    finally:
        path.unlink()
        MODULES.pop(module)
        GRAPH.pop(module)


def test_the_check_sees_a_loop():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "b": {"a.x"}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_pyproject_installs_every_package():
    """`pip install .` must give an installation that can import all of itself (tests/test_install.py
    installs it for real)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    # setuptools installs only the packages listed, not the packages inside them: each is listed
    packages = sorted(m for m, path in MODULES.items() if path.name == "__init__.py")
    assert {p.split(".")[0] for p in packages} == set(PACKAGES)
    assert sorted(config["packages"]) == packages
    assert config["package-dir"] == {"components": "bot/components"}
