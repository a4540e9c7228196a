"""The documentation runs: the ```python blocks of README.md and of the site's pages (docs/), and the ``>>>``
examples of minigrad's docstrings.

A page's blocks run in order in one namespace (the README is read top to bottom: a later block may use what an
earlier one defined), in a temporary directory (blocks that draw write their files there). A block preceded by
``<!-- docs-test: skip: REASON -->`` is illustrative and skipped; the reason is required. A ``test_*`` function
a block defines is called, so the README's example test runs too.
"""

import argparse
import ast
import doctest
import importlib
import re
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PACKAGE = Path(minigrad.__file__).resolve().parent

_BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*skip(?::\s*(?P<reason>[^>]*?))?\s*-->\s*\n)?```python\n(?P<code>.*?)```", re.S
)


def readme_blocks(path=README):
    """(line number, code, skip reason or None) for every ```python block of the README (or another page)."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in _BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("code"))  # the block's first code line, 1-based
        skip = m.group("reason")
        if skip is None and m.group(0).startswith("<!--"):
            skip = ""
        blocks.append((line + 1, m.group("code"), skip))
    return blocks


def test_readme_has_python_blocks_and_every_skip_gives_a_reason():
    blocks = readme_blocks()
    assert len(blocks) >= 1
    for line, _, skip in blocks:
        assert skip is None or skip.strip(), f"README.md:{line}: a skipped block needs a reason"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "readme"}
    ran = 0
    for line, code, skip in readme_blocks():
        if skip is not None:
            continue
        before = set(ns)
        try:
            exec(compile(code, f"README.md:{line}", "exec"), ns)
            for name in sorted(set(ns) - before):
                if name.startswith("test_") and callable(ns[name]):
                    ns[name]()
        except Exception as e:
            raise AssertionError(f"README.md block at line {line} failed: {type(e).__name__}: {e}") from e
        ran += 1
    assert ran >= 1
    # what the README's comments claim: the graph survives backward, gradients are right, the drawing is written
    L, W, b = ns["L"], ns["W"], ns["b"]
    assert L.grad_fn.name == "Mean" and L.grad_fn.next_functions[0][0].name == "PowScalar"
    assert W.grad is not None and b.grad is not None and W.grad.shape == (3, 2)
    assert (tmp_path / "graph.png").stat().st_size > 0


DOC_PAGES = sorted(DOCS.rglob("*.md"))


def test_docs_site_pages_exist():
    names = {p.relative_to(DOCS).as_posix() for p in DOC_PAGES}
    assert {"index.md", "quickstart.md", "concepts/engine.md", "guides/debugging.md", "api/tensor.md"} <= names


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_docs_page_python_blocks_run(page, tmp_path, monkeypatch):
    """Each page's blocks, in order, in one namespace of their own, in a temporary directory."""
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "docs_page"}
    for line, code, skip in readme_blocks(page):
        name = f"{page.relative_to(ROOT)}:{line}"
        if skip is not None:
            assert skip.strip(), f"{name}: a skipped block needs a reason"
            continue
        try:
            exec(compile(code, name, "exec"), ns)
        except Exception as e:
            raise AssertionError(f"{name}: the block failed: {type(e).__name__}: {e}") from e


def test_tour_page_shows_what_it_says(tmp_path, monkeypatch):
    """What the five-minute tour's comments and printed output claim."""
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "docs_page"}
    for line, code, skip in readme_blocks(DOCS / "tour.md"):
        if skip is None:
            exec(compile(code, f"docs/tour.md:{line}", "exec"), ns)
    assert not ns["z"].requires_grad  # made under no_grad
    assert (ns["dy"].item(), ns["d2y"].item(), ns["d3y"].item()) == (27.0, 18.0, 6.0)
    assert [r.op for r in ns["trace"].records] == ["Mean", "PowScalar", "Linear", "Tanh", "Linear"]
    assert ns["trace"].records[2].inputs[1].name == "2.weight"
    assert (tmp_path / "graph.svg").stat().st_size > 0 and (tmp_path / "D.svg").stat().st_size > 0


_COVERED_BY_CLASS = ("forward", "backward", "extra_repr")  # a Function's or Module's: the class gives the formula


def _public_in(body, rel, owner, found):
    """Append (where, name, node) for each public class/function in ``body`` (recursing into classes and ifs)."""
    for node in body:
        if isinstance(node, ast.If):  # Tensor's TYPE_CHECKING declarations
            _public_in(node.body, rel, owner, found)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not node.name.startswith("_"):
            if owner and node.name in _COVERED_BY_CLASS:
                continue
            if any(ast.unparse(d) == "overload" for d in node.decorator_list):
                continue  # the implementation after the overloads carries the docstring
            found.append((f"{rel}:{node.lineno}", f"{owner}{node.name}", node))
            if isinstance(node, ast.ClassDef):
                _public_in(node.body, rel, f"{owner}{node.name}.", found)


def _public_definitions():
    """(where, name, node) of every public class, function and method in minigrad's public modules."""
    found: list = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        if not any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            _public_in(ast.parse(path.read_text(encoding="utf-8")).body, rel, "", found)
    return found


def test_every_public_function_and_method_has_a_docstring():
    definitions = _public_definitions()
    assert len(definitions) > 400
    missing = [f"{where} {name}" for where, name, node in definitions if not ast.get_docstring(node)]
    assert not missing, "public definitions without a one-line contract:\n" + "\n".join(missing)


def _modules_with_doctests():
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    return names


def test_public_docstring_examples_are_doctests():
    found = set(_modules_with_doctests())
    assert {"minigrad", "minigrad.autograd.engine", "minigrad.autograd.function", "minigrad.gradcheck"} <= found


@pytest.mark.parametrize("module_name", _modules_with_doctests())
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    minigrad.manual_seed(0)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, report=True, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples in {module_name} failed"


GAN_GUIDE = DOCS / "gan" / "guide.md"
_FLAGS_INTRO = "The tables below are `python -m gan COMMAND --help`"


def gan_flag_tables() -> str:
    """The gan guide's flag tables, made from python -m gan's parser: one per command and argument group."""
    from gan.cli import build_parser

    built = build_parser()
    subparsers = built[1] if isinstance(built, tuple) else built._subparsers._group_actions[0].choices
    commands = list(subparsers.items())
    out = []
    while commands:
        name, sp = commands.pop(0)
        for group in sp._action_groups:
            nested = [a for a in group._group_actions if isinstance(a, argparse._SubParsersAction)]
            for a in nested:  # `figure nearest`, `figure interpolate`: each command's own tables, after this one's
                commands[:0] = [(f"{name} {sub}", p) for sub, p in a.choices.items()]
            actions = [a for a in group._group_actions if a.dest != "help" and a not in nested]
            if not actions:
                continue
            out += [f"### {name}: {group.title}", "", "| flag | what it does |", "|---|---|"]
            for a in actions:
                if not a.option_strings:
                    flag = a.metavar or a.dest
                elif a.nargs == 0:
                    flag = a.option_strings[-1]
                elif a.choices:
                    flag = f"{a.option_strings[-1]} {{{','.join(map(str, a.choices))}}}"
                else:
                    flag = f"{a.option_strings[-1]} {a.metavar or a.dest.upper()}"
                text = " ".join(sp._get_formatter()._expand_help(a).split()) if a.help else ""
                out.append(f"| `{flag}` | {text.replace('|', chr(92) + '|')} |")
            out.append("")
    return "\n".join(out)


def test_gan_guide_flag_tables_are_the_parsers():
    """The guide's flag tables are python -m gan's --help: a flag or help text changed fails here until the page
    follows (regenerate them with `python tests/test_docs.py`, which prints them)."""
    page = GAN_GUIDE.read_text(encoding="utf-8")
    assert _FLAGS_INTRO in page
    tables = page[page.index("\n", page.index(_FLAGS_INTRO)) + 1 :].strip()
    assert tables == gan_flag_tables().strip(), (
        "docs/gan/guide.md: regenerate the flag tables (python tests/test_docs.py)"
    )


def test_the_package_long_description_shows_on_an_index():
    """pyproject's readme is what a package index renders: no image, no link it could not follow."""
    readme = re.search(r'^readme = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)[1]
    text = (ROOT / readme).read_text(encoding="utf-8")
    assert "![" not in text and "<img" not in text.lower()
    targets = re.findall(r"\]\(([^)]+)\)", text) + re.findall(r'href="([^"]+)"', text)
    assert all(t.startswith("https://") for t in targets), targets


if __name__ == "__main__":  # the gan guide's flag tables, to paste below its "Every flag" intro
    print(gan_flag_tables())
