from pathlib import Path

import pytest
import yaml

from nas.errors import SpecError
from nas.spec import load_spec, parse_spec

DEMO = Path(__file__).parents[2] / "codecnas" / "examples" / "demo.yaml"


def _demo() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_demo_spec_is_valid():
    spec = load_spec(DEMO)
    assert spec.objective_names == ["quality_ratio_vs_jpeg", "decode_ms_12mp"]
    assert spec.objectives[0].resolved_direction == "minimize"
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["training"].update(stepz=5), r"training\.stepz: unknown key"),
        (lambda d: d["training"].update(steps=-5), r"training\.steps: .*greater than 0.*got -5"),
        (lambda d: d.update(space="vit"), r"space: unknown search space 'vit'"),
        (lambda d: d["sampler"].update(kind="cmaes"), r"sampler\.kind: .*got 'cmaes'"),
        (
            lambda d: (
                d["objectives"].append({"metric": "psnr"})
                or d["objectives"].append({"metric": "psnr"})
            ),
            r"objectives: objectives repeat a metric",
        ),
        (
            lambda d: d["objectives"][0].update(metric="speed"),
            r"objectives\.0\.metric: unknown metric 'speed'",
        ),
        (lambda d: d["constraints"][0].pop("max"), r"constraints\.0: .*needs 'max' or 'min'"),
        (lambda d: d.pop("budget"), r"budget: required key is missing"),
        (
            lambda d: d["data"].update(eval=d["data"]["train"]),
            r"data: data.train and data.eval are the same",
        ),
        (lambda d: d.update(name="bad name!"), r"name: .*got 'bad name!'"),
        (lambda d: d["budget"].update(trials="many"), r"budget\.trials: .*got 'many'"),
    ],
)
def test_bad_specs_are_rejected_with_a_message_naming_the_key(mutate, message):
    data = _demo()
    mutate(data)
    with pytest.raises(SpecError, match=message):
        parse_spec(data, source="demo.yaml")


def test_several_mistakes_are_all_reported():
    data = _demo()
    data["training"]["steps"] = 0
    data["benchmark"]["tile"] = 7
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert "training.steps" in str(info.value) and "benchmark.tile" in str(info.value)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read the spec"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: not valid YAML"):
        load_spec(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="must be a mapping"):
        load_spec(listing)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(binary)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda d: d["training"].update(steps=99999999999999999999999999999),
            r"training\.steps: .*less than or equal to 10000000",
        ),
        (lambda d: d["training"].update(steps=True), r"training\.steps: .*integer.*got True"),
        (lambda d: d["training"].update(learning_rate="fast"), r"training\.learning_rate"),
        (lambda d: d["budget"].update(trials=False), r"budget\.trials: .*got False"),
        (lambda d: d["training"].update(lmbda=float("nan")), r"training\.lmbda: .*finite"),
        (lambda d: d["cluster"].update(cpus_per_trial=100000), r"cluster\.cpus_per_trial"),
        (lambda d: d["sampler"].update(seed=-1), r"sampler\.seed"),
    ],
)
def test_runaway_values_and_booleans_for_numbers_are_refused(mutate, message):
    data = _demo()
    mutate(data)
    with pytest.raises(SpecError, match=message):
        parse_spec(data, source="demo.yaml")


def test_a_repeated_key_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    text = DEMO.read_text().replace("training:\n", "training:\n  steps: 3\n", 1)
    path.write_text(text)
    with pytest.raises(
        SpecError, match=r"twice\.yaml: line \d+: key 'steps' repeats the one on line \d+"
    ):
        load_spec(path)


def test_scientific_notation_is_a_number_in_yaml(tmp_path):
    path = tmp_path / "sci.yaml"
    data = _demo()
    data["training"]["learning_rate"] = "@LR@"
    path.write_text(yaml.safe_dump(data).replace("'@LR@'", "2e-4"))
    assert load_spec(path).training.learning_rate == pytest.approx(2e-4)


def test_score_takes_the_objectives_and_checks_every_constraint() -> None:
    from tests.conftest import tiny_spec

    spec = parse_spec(
        tiny_spec(constraints=[{"metric": "decode_ms_12mp", "max": 100.0}]), source="test"
    )
    metrics = {"quality_ratio_vs_jpeg": 2.0, "decode_ms_12mp": 50.0, "bpp": 0.5}
    assert spec.score(metrics) == ({"quality_ratio_vs_jpeg": 2.0, "decode_ms_12mp": 50.0}, True)
    assert spec.score({**metrics, "decode_ms_12mp": 150.0})[1] is False
    with pytest.raises(
        ValueError, match=r"did not report objective metric\(s\) \['decode_ms_12mp'\]"
    ):
        spec.score({"quality_ratio_vs_jpeg": 2.0})
