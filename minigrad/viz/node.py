"""Node: one box of a drawing, what graph capture, module grouping and the renderers pass between them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    """One box of a drawing: ``sections`` are the label's parts (lines each), ``tooltip`` the full summary."""

    id: str
    kind: str  # 'op', 'module', or a tensor's role: 'param', 'input', 'output', 'tensor'
    sections: list = field(default_factory=list)
    tooltip: str = ""
