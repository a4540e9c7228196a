"""``python -m gan train`` without --model or --preset (issue 31): the quick dcgan28 recipe, scored at its end;
``--model mlp`` keeps the paper's MLP with Algorithm 1's settings exactly as before."""

import json

import pytest

from gan import cli
from gan.cli import train as train_cli
from gan.config import TrainConfig
from gan.presets import PRESETS

# The settings `python -m gan train` had before issue 31, written out: what `--model mlp` must still give.
ALGORITHM_1_MLP = dict(
    model="mlp",
    epochs=15,
    batch_size=128,
    lr=2e-4,
    lr_g=2e-4,
    lr_d=2e-4,
    beta1=0.5,
    beta2=0.999,
    k=1,
    ema=0.0,
    width=1.0,
    dropout=0.0,
    loss="nonsaturating",
    noise="normal",
    optimizer="adam",
    updates="alternating",
    eval_every=0,
    final_scores=False,
    preset=None,
)


def _config(*flags):
    parser, subparsers = cli.build_parser()
    args = parser.parse_args(["train", *flags])
    cfg, state = train_cli._train_config(subparsers["train"], args)
    assert state is None
    return cfg


def test_no_flags_is_the_quick_dcgan28_recipe(tmp_path):
    cfg = _config("--outdir", str(tmp_path / "run"))
    assert PRESETS["quick"] == dict(model="dcgan28", width=0.5, epochs=3, final_scores=True)
    assert (cfg.model, cfg.width, cfg.epochs, cfg.final_scores, cfg.preset) == ("dcgan28", 0.5, 3, True, "quick")
    # the rest is dcgan28's own recipe: batch 64, G 1e-3 / D 2e-4, an EMA of G
    assert (cfg.batch_size, cfg.lr_g, cfg.lr_d, cfg.ema, cfg.d_norm) == (64, 1e-3, 2e-4, 0.999, "batch")
    # explicit flags still win over the default recipe
    assert _config("--outdir", str(tmp_path / "b"), "--epochs", "5").epochs == 5
    assert _config("--outdir", str(tmp_path / "c"), "--no-final-scores").final_scores is False


def test_model_mlp_is_algorithm_1_as_before(tmp_path):
    cfg = _config("--model", "mlp", "--outdir", str(tmp_path / "run"))
    assert {key: getattr(cfg, key) for key in ALGORITHM_1_MLP} == ALGORITHM_1_MLP
    assert cfg.to_dict() == TrainConfig(model="mlp", outdir=str(tmp_path / "run")).validate().to_dict()
    # a named model without --preset takes that model's own defaults, not the quick recipe's
    dc = _config("--model", "dcgan28", "--outdir", str(tmp_path / "dc"))
    assert (dc.width, dc.epochs, dc.final_scores, dc.preset) == (1.0, 15, False, None)


def test_an_mlp_flag_without_model_says_to_name_the_mlp(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _config("--dropout", "0.3", "--outdir", str(tmp_path / "run"))
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--dropout" in err and "--model mlp" in err and "--preset quick" in err


def test_the_default_run_names_its_model_and_leads_its_end_with_the_scores(mnist_dir, tmp_path, capsys, monkeypatch):
    # the evaluator is replaced by one that records when it is called (the real one draws 10,000 samples)
    from gan.evaluation import evaluate

    calls = []

    def fake_make_evaluator(*args, **kwargs):
        def score(G, epoch):
            calls.append(epoch)
            return dict(parzen_ll=171.25, parzen_se=2.0, fid=25.5, inception_score=8.76, modes_covered=10)

        return score

    monkeypatch.setattr(evaluate, "make_evaluator", fake_make_evaluator)
    out = tmp_path / "run"
    flags = ["--width", "0.0625", "--limit", "64", "--batch-size", "32", "--threads", "1"]
    assert cli.main(["train", "--data-dir", str(mnist_dir), "--outdir", str(out), *flags]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("training dcgan28 (--preset quick) on 64 images")
    assert calls == [3]  # the last epoch only
    end = lines.index(next(line for line in lines if line.startswith("scores of epoch 3:")))
    assert "Parzen LL 171.2 +- 2.0 nats (Table 1: Adversarial nets 225 +- 2" in lines[end]
    assert "FID 25.5, IS 8.76, 10/10 modes" in lines[end]
    assert lines[end + 1].startswith(f"done: 3 epochs in {out}/")
    rest = "\n".join(lines[end:])
    for flags, _ in train_cli.BETTER_RECIPES:
        assert f"python -m gan train {flags}" in rest
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    scored = [r["epoch"] for r in records if r["kind"] == "epoch" and "parzen_ll" in r]
    assert scored == [3]


def test_an_mlp_run_ends_as_before(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["--width", "0.1", "--limit", "128", "--batch-size", "32", "--epochs", "1", "--threads", "1"]
    assert cli.main(["train", "--model", "mlp", "--data-dir", str(mnist_dir), "--outdir", str(out), *flags]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("training mlp on 128 images")
    assert lines[2].startswith(f"done: 1 epochs in {out}/") and not any("scores of epoch" in x for x in lines)
    assert not any("for better pictures" in x for x in lines)
    assert json.loads((out / "config.json").read_text())["final_scores"] is False
