"""gan.train, gan.resume and gan.evaluate: the same runs and scores as the CLI's, and errors as exceptions."""

import json

import pytest
from helpers import assert_same_arrays, run_arrays

import gan
from gan.config import ConfigError, TrainConfig
from gan.run.errors import AlreadyTrained, ForeignCheckpoint, NotAFolder, RunExists, SettingsFixed
from gan.run.lock import RunLock, RunLocked
from minigrad import threads

TINY = dict(width=0.1, batch_size=32, limit=128, quiet=True)  # TINY_TRAIN_FLAGS as settings


@pytest.fixture
def one_thread():
    """The CLI runs of train_tiny use one thread; the API leaves the count alone, so the test sets it."""
    before = threads.get_num_threads()
    threads.set_num_threads(1)
    yield
    threads.set_num_threads(before)


def test_import_gan_stays_cheap():
    import subprocess
    import sys

    code = "import sys, gan; print(sorted(m for m in sys.modules if m.startswith(('gan.', 'minigrad'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_train_makes_the_cli_run_bit_for_bit(train_tiny, mnist_dir, tmp_path, one_thread):
    assert train_tiny(tmp_path / "cli", "--epochs", "2") == 0
    record = gan.train(data_dir=str(mnist_dir), epochs=2, outdir=str(tmp_path / "api"), **TINY)
    assert record["kind"] == "epoch" and record["epoch"] == 2
    assert_same_arrays(run_arrays(tmp_path / "cli"), run_arrays(tmp_path / "api"))
    cli_config, api_config = (json.loads((tmp_path / r / "config.json").read_text()) for r in ("cli", "api"))
    assert {k: v for k, v in cli_config.items() if k != "outdir"} == {
        k: v for k, v in api_config.items() if k != "outdir"
    }


def test_train_takes_a_config_and_leaves_it_alone(mnist_dir, tmp_path, one_thread):
    cfg = TrainConfig(data_dir=str(mnist_dir), epochs=1, outdir=str(tmp_path / "run"), **TINY)
    before = cfg.to_dict()
    assert gan.train(cfg)["epoch"] == 1
    assert cfg.to_dict() == before  # the defaults were filled in a copy
    with pytest.raises(TypeError, match="not both"):
        gan.train(cfg, epochs=3)


def test_resume_continues_as_an_uninterrupted_run(mnist_dir, tmp_path, one_thread):
    gan.train(data_dir=str(mnist_dir), epochs=2, outdir=str(tmp_path / "whole"), **TINY)
    gan.train(data_dir=str(mnist_dir), epochs=1, outdir=str(tmp_path / "split"), **TINY)
    record = gan.resume(tmp_path / "split", epochs=2, quiet=True)
    assert record["epoch"] == 2
    assert_same_arrays(run_arrays(tmp_path / "whole"), run_arrays(tmp_path / "split"))
    assert gan.resume(tmp_path / "split", quiet=True) == {}  # all its epochs trained: nothing to do


def test_run_folder_errors_are_exceptions(mnist_dir, tmp_path, one_thread):
    run = tmp_path / "run"
    gan.train(data_dir=str(mnist_dir), epochs=1, outdir=str(run), **TINY)
    with pytest.raises(NotAFolder, match="not a directory"):
        gan.resume(tmp_path / "missing")
    with pytest.raises(SettingsFixed) as e:
        gan.resume(run, lr=0.1, batch_size=8)
    assert e.value.fields == ("batch_size", "lr") and "epochs" in e.value.resumable
    with pytest.raises(AlreadyTrained) as e:
        gan.resume(run, epochs=1)
    assert (e.value.epochs, e.value.trained) == (1, 1)
    with pytest.raises(RunExists):
        gan.train(data_dir=str(mnist_dir), epochs=1, outdir=str(run), **TINY)
    with pytest.raises(ConfigError) as e:
        gan.train(data_dir=str(mnist_dir), epochs=0, outdir=str(tmp_path / "other"), **TINY)
    assert e.value.fields == ("epochs",) and str(e.value) == "epochs must be at least 1, got 0"
    assert not (tmp_path / "other").exists()  # checked before anything is written
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(dict(config, seed=7)))
    with pytest.raises(ForeignCheckpoint, match="seed 0 vs 7"):
        gan.resume(run, epochs=2)
    (run / "config.json").write_text(json.dumps(config))
    with RunLock(run):
        with pytest.raises(RunLocked):
            gan.resume(run, epochs=2)


def test_evaluate_gives_the_cli_scores(train_tiny, tmp_path, capsys):
    from gan import cli

    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    argv = ["evaluate", "--checkpoint", str(tmp_path / "run"), "--n", "200", "--valid-size", "50", "--threads", "1"]
    assert cli.main(argv) == 0
    by_cli = json.loads((tmp_path / "run" / "eval.json").read_text())
    by_api = gan.evaluate(tmp_path / "run", n=200, valid_size=50, log=lambda message: None)
    assert by_cli.pop("name") == "mlp (epoch 1)"
    for scores in (by_cli, by_api):
        del scores["parzen_seconds"]  # measured, not computed
    assert by_api == by_cli and {"parzen_ll", "fid", "inception_score", "modes_covered"} <= set(by_api)
