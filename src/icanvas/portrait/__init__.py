"""Photo -> character: pick a person, fill the background, restyle them, put them back.

Each stage is a small interface (:mod:`icanvas.portrait.stages`) with a CPU default that needs
no downloaded weights and optional big-model backends that take a local file. The stages are
inference only; :mod:`icanvas.pipelines.stylize` composes them.
"""
