"""Typed, actionable errors.

Every error a user can cause carries two parts: what was wrong and what to do about it.
The CLI prints both without a traceback; the web server turns them into 4xx answers.
"""

from __future__ import annotations


class ICanvasError(Exception):
    """Base class: ``str(err)`` is the problem, ``err.hint`` says what to do."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.problem} {self.hint}".strip() if self.hint else self.problem


class ConfigError(ICanvasError):
    """A preset or ``--set`` override names an unknown key or holds a bad value."""


class InputImageError(ICanvasError):
    """An image could not be read or is unusable (corrupt, wrong format, too big, empty)."""


class DatasetError(ICanvasError):
    """A data folder is missing, empty or not in the expected layout."""


class ModelNotFoundError(ICanvasError):
    """A model name or folder does not exist or lacks a required file."""


class CheckpointError(ICanvasError):
    """A model file or training state exists but cannot be loaded (corrupt, wrong version)."""


class MissingResourceError(ICanvasError):
    """A local file the user must supply (e.g. feature-extractor weights) was not given."""


class PromptError(ICanvasError):
    """Clicks or a box that do not point at a person in the photo (outside it, empty, selecting nothing)."""
