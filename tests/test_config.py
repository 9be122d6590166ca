"""Configuration: YAML round trip, overrides, type checks and helpful errors."""

from __future__ import annotations

import pytest
import yaml

from convnextpose.config import (
    Config,
    ConfigError,
    all_keys,
    describe_keys,
    load_config,
    save_config,
    shipped_configs,
)
from convnextpose.config_values import parse_int_range, parse_override


def test_defaults_follow_the_release():
    cfg = Config()
    assert cfg.model.input_size == (256, 256) and cfg.model.variant == "xs"
    assert cfg.model.depth_dim is None and cfg.model.upsample_layers is None  # the variant's: 32 bins, 2 layers
    assert cfg.data.bbox_3d_size == 2000.0 and cfg.model.drop_path_rate == 0.1
    assert cfg.eval.flip_test and cfg.eval.use_gt_info
    assert cfg.train.batch_size == 32 and cfg.train.end_epoch == 25


def test_round_trip_through_yaml(tmp_path):
    cfg = load_config(
        None, ["train.lr=5e-4", "model.input_size=(192, 160)", "data.train_options={'human36m': {'subsample': 2}}"]
    )
    path = save_config(cfg, tmp_path / "config.yaml")
    again = load_config(path)
    assert again.to_dict() | {"run": None} == cfg.to_dict() | {"run": None}
    assert again.model.input_size == (192, 160) and isinstance(again.model.input_size, tuple)
    assert again.data.train_options == {"human36m": {"subsample": 2}}
    assert again.run.name == cfg.run.name == "default"
    assert yaml.safe_load(path.read_text())["train"]["lr"] == 5e-4


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("train.lr=5e-4", "train.lr", 5e-4),
        ("model.variant=s", "model.variant", "s"),
        ("eval.flip_test=false", "eval.flip_test", False),
        ("model.init=None", "model.init", None),
        ("data.train_sets=['human36m']", "data.train_sets", ["human36m"]),
        ("run.name=my run", "run.name", "my run"),
    ],
)
def test_parse_override(text, key, value):
    assert parse_override(text) == (key, value)


def test_overrides_are_type_checked_and_coerced():
    cfg = load_config(None, ["train.lr=1", "lr=0.002", "model.head_width=64", "eval.flip_test=False"])
    assert cfg.train.lr == 0.002 and isinstance(cfg.train.lr, float)
    assert cfg.model.head_width == 64 and cfg.eval.flip_test is False
    for bad, fragment in [
        ("train.batch_size=3.5", "expected int"),
        ("train.batch_size=True", "expected int"),
        ("eval.flip_test=1", "expected bool"),
        ("model.input_size=(256,)", "tuple"),
        ("data.train_sets=human36m", "expected list"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            load_config(None, [bad])


def test_unknown_keys_get_suggestions():
    with pytest.raises(ConfigError, match="did you mean 'train.batch_size'"):
        load_config(None, ["train.batchsize=8"])
    with pytest.raises(ConfigError, match="did you mean 'train.lr'"):
        load_config(None, ["trian.lr=0.1"])
    with pytest.raises(ConfigError, match="ambiguous"):
        load_config(None, ["batch_size=8"])  # train.batch_size and eval.batch_size
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["train.lr"])


def test_yaml_errors_name_the_file(tmp_path):
    named = tmp_path / "my_experiment.yaml"
    named.write_text("train:\n  lr: 0.1\n")
    assert load_config(named).run.name == "my_experiment"  # a file that names no run names it
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*did you mean 'train.lr'"):
        load_config(bad)
    bad.write_text("trainn:\n  lr: 0.1\n")
    with pytest.raises(ConfigError, match="did you mean 'train'"):
        load_config(bad)
    with pytest.raises(FileNotFoundError, match="neither a file nor a shipped config"):
        load_config(tmp_path / "missing.yaml")


def test_cross_field_validation():
    with pytest.raises(ConfigError, match="multiple of 32"):
        load_config(None, ["model.input_size=(250, 256)"])
    with pytest.raises(ConfigError, match="protocol"):
        load_config(None, ["data.protocol=3"])
    with pytest.raises(ConfigError, match="did you mean 'human36m'"):
        load_config(None, ["data.train_sets=['human36n']"])
    with pytest.raises(ConfigError, match="unknown variant"):
        load_config(None, ["model.variant=xxl"])
    with pytest.raises(ConfigError, match=r"train_shares: give every train set \(human36m, mpii\)"):
        load_config(None, ["data.train_shares={'human36m': 3}"])
    with pytest.raises(ConfigError, match="positive share"):
        load_config(None, ["data.train_shares={'human36m': 3, 'mpii': 0}"])
    shares = load_config(None, ["data.train_shares={'human36m': 3, 'mpii': 1}"]).data.train_shares
    assert shares == {"human36m": 3.0, "mpii": 1.0}


def test_shipped_configs_load_and_are_named_by_the_rule():
    configs = shipped_configs()
    assert {"convnextpose_xs_1xb32-25e_h36m-p1-mpii", "convnextpose_xs_1xb32-25e_h36m-p2-mpii"} <= set(configs)
    assert any("muco" in name for name in configs) and any("synth" in name for name in configs)
    for name in configs:
        cfg = load_config(name)
        assert cfg.run.name == name
        model, rest = name.split("_", 2)[1:]
        gpus, batch = rest.split("-")[0].split("xb")
        assert cfg.model.variant == model and cfg.train.batch_size == int(batch)
        assert rest.split("-")[1].split("_")[0] == f"{cfg.train.end_epoch}e"
    assert load_config("convnextpose_xs_1xb32-25e_h36m-p1-mpii").data.protocol == 1
    assert load_config("convnextpose_xs_1xb32-25e_muco-coco").data.test_set == "mupots"


@pytest.mark.parametrize(("variant", "layers", "bins"), [("xs", 2, 32), ("s", 2, 32), ("m", 3, 64), ("l", 3, 64)])
def test_a_paper_recipe_config_per_variant_builds_the_paper_network(variant, layers, bins):
    from convnextpose.engine.build import network_kwargs
    from convnextpose.joints import get_joint_set
    from convnextpose.models.convnextpose import ModelSpec, variant_name

    cfg = load_config(f"convnextpose_{variant}_1xb32-25e_h36m-p2-mpii")
    spec = ModelSpec(**network_kwargs(cfg, get_joint_set("human36m")))
    assert variant_name(spec) == variant
    assert (spec.upsample_layers, spec.depth_dim, spec.output_size) == (layers, bins, (bins, bins))
    # Without model.depth_dim / upsample_layers the variant's own values apply.
    plain = load_config(None, [f"model.variant={variant}"])
    assert ModelSpec(**network_kwargs(plain, get_joint_set("human36m"))) == spec


def test_describe_lists_every_key():
    text = describe_keys()
    for key in all_keys():
        assert key in text
    assert "stochastic depth" in text


@pytest.mark.parametrize(
    ("text", "expected"), [("0", [0]), ("0-1", [0, 1]), ("0,2", [0, 2]), ("20-22,25", [20, 21, 22, 25])]
)
def test_release_style_ranges(text, expected):
    assert parse_int_range(text) == expected


def test_bad_range():
    with pytest.raises(ValueError, match="N-M"):
        parse_int_range("3-1")
