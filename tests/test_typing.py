"""The typing-only declarations of Tensor's attached methods match what tensor_methods attaches.

tensor.py declares, inside ``if TYPE_CHECKING:``, the signatures of the methods
that minigrad/ops/tensor_methods.py attaches at import; mypy and IDEs read those
declarations, Python never runs them. These tests keep the two lists equal and
the declared parameters those of the attached functions.
"""

import ast
import inspect
from pathlib import Path

import pytest

import minigrad
from minigrad.ops import tensor_methods
from minigrad.tensor import Tensor

TENSOR_PY = Path(minigrad.__file__).parent / "tensor.py"


def _declared_methods():
    """name -> list of FunctionDef nodes (several for an overload; an alias shares its target's) in Tensor's
    TYPE_CHECKING block."""
    tree = ast.parse(TENSOR_PY.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    blocks = [n for n in cls.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    assert len(blocks) == 1, "Tensor should have exactly one `if TYPE_CHECKING:` block"
    declared = {}
    for node in blocks[0].body:
        if isinstance(node, ast.FunctionDef):
            declared.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):  # `min = max`: an alias
            for target in node.targets:
                declared[target.id] = declared[node.value.id]
    return declared


def test_every_attached_method_is_declared_and_nothing_else():
    assert set(_declared_methods()) == set(tensor_methods._METHODS)


def test_declarations_do_not_exist_at_run_time_except_as_attached():
    # the block never runs: each name on the class is the attached function, not the declaration
    for name, method in tensor_methods._METHODS.items():
        assert Tensor.__dict__[name] is method


def _params(node):
    a = node.args
    return ([p.arg for p in a.posonlyargs + a.args], a.vararg is not None, [p.arg for p in a.kwonlyargs])


@pytest.mark.parametrize(
    "name", sorted(n for n, m in tensor_methods._METHODS.items() if inspect.isfunction(m) and m.__name__ != "<lambda>")
)
def test_declared_parameters_are_the_attached_ones(name):
    """Same positional names (self first), *args where the function has one, and every keyword it takes."""
    fn = tensor_methods._METHODS[name]
    sig = inspect.signature(fn)
    positional = [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    keyword = [p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY]
    nodes = _declared_methods()[name]
    # an overloaded method: the implementation signature (the last declaration) carries every parameter
    decl_positional, decl_var, decl_keyword = _params(nodes[-1])
    assert decl_var == var
    assert decl_positional[1:] == positional[1:]
    assert decl_keyword == keyword
