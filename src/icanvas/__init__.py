"""iCanvas: turn a child's sketch into a picture.

Data flows one way: ``data`` (prepare) -> ``training`` -> model folder (``checkpoint``)
-> ``pipelines`` (inference only) -> ``cli`` / ``serve``.
"""

__version__ = "0.1.0"
