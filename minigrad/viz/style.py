"""Colours of the node kinds, shared by the DOT text and the matplotlib drawing."""

FILL = {
    "param": "#d6e6f5",  # parameters (leaves that require grad): blue
    "input": "#ececec",  # inputs that need no grad: grey
    "tensor": "#ffffff",  # intermediate tensors
    "output": "#fff0b3",  # the tensor the graph was drawn from
    "op": "#fbe0c8",  # Functions
    "module": "#dcefd8",  # a module's ops collapsed into one box
}
EDGE = "#555555"
FONT_SIZE = 9  # points
