"""Training methods: each one a unit that registers itself by name.

A method is what the ``method:`` key of a preset and the ``"method"`` of a model folder's
``config.json`` name: the config dataclass of a whole training run, the config dataclass of
the model it saves, a builder of that model from its config, and its training recipe. Each
method registers these with :func:`register_method` in its own module of this package, and
:func:`discover` imports every module of the package, so nothing here lists the methods.

Loading a model folder needs only the model config and the builder; the recipe is reached
through a loader that imports the method's training module when a run starts, so pipelines
and the studio never import training code, and this package imports none either.

Adding a training method
------------------------
A fifth method, say ``sketchgan``, touches only new files:

1. ``src/icanvas/methods/sketchgan.py``: its config dataclasses (shared sections such as
   :class:`~icanvas.methods.common.RunConfig` come from :mod:`icanvas.methods.common`), validated
   with :func:`icanvas.config.check` / :func:`icanvas.config.one_of`, and the registration
   on the training config class::

       def _recipe():  # imported only when a run starts
           from icanvas.training.sketchgan import RECIPE
           return RECIPE

       def _build(config: SketchGANGeneratorConfig) -> nn.Module:
           from icanvas.models.sketchgan import SketchGANGenerator
           return SketchGANGenerator(config)

       @register_method("sketchgan", model_config=SketchGANGeneratorConfig, build=_build, recipe=_recipe)
       @dataclasses.dataclass(frozen=True)
       class SketchGANTrainConfig:
           method: Literal["sketchgan"] = "sketchgan"
           ...

2. ``src/icanvas/models/sketchgan.py``: the ``nn.Module`` (its constructor takes its config only).
3. ``src/icanvas/training/sketchgan.py``: the trainer and ``RECIPE = Recipe(prepare, sample_grid, ...)``
   (see :mod:`icanvas.training.recipes`).
4. ``configs/sketchgan*.yaml``: presets with ``method: sketchgan``.
5. Tests under ``tests/models/`` and ``tests/training/``; a pipeline in ``src/icanvas/pipelines/``
   if the studio or the CLI should run the model.

``icanvas train --config sketchgan`` then finds the method, and ``from_pretrained`` loads its
model folders.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from icanvas.errors import ConfigError

if TYPE_CHECKING:  # only for annotations: importing training code here would make serving import it
    from torch import nn

    from icanvas.training.recipes import Recipe


@dataclass(frozen=True)
class Method:
    """One training method, as registered by its module."""

    name: str  # the preset's ``method:`` key and the model folder's "method"
    train_config: type  # frozen dataclass of a whole training run (what a preset holds)
    model_config: type  # frozen dataclass of the saved model (config.json "model")
    build: Callable[[Any], nn.Module]  # model config -> the saved module, untrained
    load_recipe: Callable[[], Recipe]  # () -> the training recipe; imports training code, so only training calls it

    def recipe(self) -> Recipe:
        return self.load_recipe()


METHODS: dict[str, Method] = {}  # by name, filled by register_method as discover() imports the method modules
_discovered = False  # True once every module of this package has been imported


def register_method(name: str, *, model_config: type, build: Callable[[Any], nn.Module], recipe: Callable[[], Recipe]):
    """Decorator on a method's training config class: register the method under ``name``."""

    def wrap(train_config: type) -> type:
        METHODS[name] = Method(name, train_config, model_config, build, recipe)
        return train_config

    return wrap


def method_modules() -> list[str]:
    """Full names of the modules of this package, in name order."""
    return [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)]


def discover() -> dict[str, Method]:
    """Import every method module once (they register themselves); the methods by name."""
    global _discovered
    if not _discovered:
        for module in method_modules():
            importlib.import_module(module)
        _discovered = True
    return METHODS


def get_method(name: Any) -> Method:
    """The method registered as ``name``; a ConfigError listing the known ones otherwise."""
    methods = discover()
    if not isinstance(name, str) or name not in methods:
        raise ConfigError(f"Unknown method {name!r}.", f"Known methods: {', '.join(sorted(methods))}.")
    return methods[name]
