import pytest

from icanvas.config import Pix2PixConfig, UNetConfig, apply_overrides, load_train_config, resolve_preset, to_dict, train_config_from_dict
from icanvas.errors import ConfigError


def test_presets_load_and_overrides_apply():
    cfg = load_train_config("tiny", ["run.steps=7", "generator.ngf=8", "loss.gan=hinge"])
    assert cfg.run.steps == 7 and cfg.generator.ngf == 8 and cfg.loss.gan == "hinge"
    for name in ("pix2pix-128", "pix2pix-256", "pix2pix-256-hints", "pix2pix-reference"):
        assert load_train_config(name).method == "pix2pix"


def test_round_trip_through_dict():
    cfg = load_train_config("pix2pix-256-hints")
    assert train_config_from_dict(to_dict(cfg)) == cfg


def test_unknown_key_names_it():
    with pytest.raises(ConfigError) as e:
        load_train_config("tiny", ["generator.ngff=3"])
    assert "generator.ngff" in str(e.value) and "ngf" in e.value.hint


def test_bad_values_are_rejected():
    with pytest.raises(ConfigError, match="generator.norm"):
        UNetConfig(norm="group")
    with pytest.raises(ConfigError, match="image_size"):
        UNetConfig(image_size=100)
    with pytest.raises(ConfigError, match="whole number"):
        load_train_config("tiny", ["run.steps=1.5"])
    with pytest.raises(ConfigError, match="hint_channels"):
        load_train_config("tiny", ["hints.enabled=true"])


def test_override_without_equals_and_unknown_preset():
    with pytest.raises(ConfigError, match="no '='"):
        apply_overrides({}, ["run.steps"])
    with pytest.raises(ConfigError) as e:
        resolve_preset("no-such-preset")
    assert "tiny" in e.value.hint


def test_class_conditional_needs_matching_kinds():
    with pytest.raises(ConfigError, match="num_classes"):
        train_config_from_dict({"data": {"kinds": ["cat", "car"]}})
    cfg = train_config_from_dict({"data": {"kinds": ["cat", "car"]}, "generator": {"num_classes": 2}})
    assert isinstance(cfg, Pix2PixConfig) and cfg.data.kinds == ("cat", "car")
