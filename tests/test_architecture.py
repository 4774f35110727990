"""The package's shape: no import cycles, inference never imports training, methods register themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from icanvas.errors import CheckpointError, ConfigError

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "icanvas" / "bundled"
# Packages that serve models: importing them (or loading a model folder) must not import training code.
INFERENCE = ("icanvas.checkpoint", "icanvas.catalog", "icanvas.methods", "icanvas.pipelines", "icanvas.runtime", "icanvas.serve")

# Imports every module of icanvas on its own, as if first: all icanvas modules are dropped from
# sys.modules before each one, so an import cycle fails whatever order the modules come in.
# Third-party modules stay loaded (they cannot take part in a cycle of ours). Prints, per
# module, the icanvas modules it pulled in, or why it could not be imported.
IMPORT_EACH = r"""
import importlib, json, pkgutil, sys
import icanvas

names = sorted(m.name for m in pkgutil.walk_packages(icanvas.__path__, "icanvas."))
result = {}
for name in names:
    for loaded in [k for k in sys.modules if k == "icanvas" or k.startswith("icanvas.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] != "icanvas":  # an optional dependency that is not installed
            result[name] = {"skipped": e.name}
            continue
        result[name] = {"error": repr(e)}
        continue
    except Exception as e:  # noqa: BLE001 - reported by the test with the module's name
        result[name] = {"error": repr(e)}
        continue
    result[name] = sorted(k for k in sys.modules if k.startswith("icanvas."))
print(json.dumps(result))
"""


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def imported() -> dict:
    return json.loads(_run(IMPORT_EACH))


def _is_inference(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in INFERENCE)


def test_every_module_imports_on_its_own(imported):
    assert len(imported) > 50 and "icanvas.methods.pix2pix" in imported
    errors = {name: r["error"] for name, r in imported.items() if isinstance(r, dict) and "error" in r}
    assert not errors


def test_inference_modules_never_import_training(imported):
    checked = [name for name in imported if _is_inference(name) and isinstance(imported[name], list)]
    assert "icanvas.serve.app" in checked and "icanvas.methods.dcgan" in checked and "icanvas.checkpoint" in checked
    leaks = {name: [m for m in imported[name] if m.startswith("icanvas.training")] for name in checked}
    assert not {name: mods for name, mods in leaks.items() if mods}


def test_loading_every_bundled_model_imports_no_training_code():
    folders = sorted(str(p.parent) for p in BUNDLED.glob("*/config.json"))
    assert folders
    code = (f"import sys\nfrom icanvas.checkpoint import from_pretrained\n"
            f"for folder in {folders!r}:\n    from_pretrained(folder)\n"
            f"print(sorted(k for k in sys.modules if k.startswith('icanvas.training')))")
    assert _run(code) == "[]"


def test_methods_register_themselves_under_their_preset_name():
    from icanvas.methods import discover, get_method

    methods = discover()
    assert {"pix2pix", "dcgan", "recognizer"} <= set(methods)
    for name, method in methods.items():
        assert method.train_config().method == name  # the preset's method: key
        assert get_method(name) is method
    recipe = get_method("pix2pix").recipe()  # loaded from the training module on demand
    assert recipe.prepare.__module__ == "icanvas.training.pix2pix"


def test_unknown_method_lists_the_known_ones(tmp_path):
    from icanvas.checkpoint import read_model_info
    from icanvas.config import train_config_from_dict

    with pytest.raises(ConfigError) as e:
        train_config_from_dict({"method": "cyclegan"})
    assert "cyclegan" in str(e.value) and "pix2pix" in e.value.hint and "dcgan" in e.value.hint
    (tmp_path / "config.json").write_text(json.dumps({"format_version": 1, "method": "cyclegan", "model": {}}))
    with pytest.raises(CheckpointError) as e:
        read_model_info(tmp_path)
    assert "cyclegan" in str(e.value) and "recognizer" in e.value.hint


def test_config_classes_still_import_from_config():
    import icanvas.config as config
    from icanvas.methods import common, dcgan, pix2pix, recognizer

    assert config.UNetConfig is pix2pix.UNetConfig and config.RunConfig is common.RunConfig
    assert config.DCGANTrainConfig is dcgan.DCGANTrainConfig and config.RecognizerConfig is recognizer.RecognizerConfig
    with pytest.raises(AttributeError):
        config.NoSuchConfig  # noqa: B018
    with pytest.raises(AttributeError):
        config.dataclass  # imported by the method modules, not defined there
