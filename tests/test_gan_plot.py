"""python -m gan plot and the trainer's curve figures: which records they draw, Table 1's line, usage errors."""

import pytest
from PIL import Image

from gan import cli
from gan.figures import curves
from gan.run.log import append_record, read_metrics, write_json


def _fake_run(folder, epochs=6, eval_every=2, config=None):
    """A run folder with a config.json and step/epoch records (scores on every eval_every-th epoch)."""
    folder.mkdir()
    write_json(folder / "config.json", config or {"model": "mlp", "loss": "nonsaturating", "ema": 0.0})
    for epoch in range(1, epochs + 1):
        losses = {"loss_d": 1.0 / epoch, "loss_g": 2.0, "d_real": 0.6, "d_fake": 0.4}
        append_record(folder / "metrics.jsonl", {"kind": "step", "epoch": epoch, "step": 10 * epoch, **losses})
        record = {"kind": "epoch", "epoch": epoch, "step": 10 * epoch, **losses}
        if eval_every and epoch % eval_every == 0:
            record |= {"parzen_ll": 10.0 * epoch, "parzen_se": 1.0, "fid": 50.0 / epoch, "inception_score": 2.0}
        append_record(folder / "metrics.jsonl", record)
    return folder


@pytest.fixture
def drawn(monkeypatch):
    """What the plot functions were given: {'losses': (records, title, critic), 'scores': (records, references,
    title)}."""
    calls = {}

    def losses(records, path, title=None, critic=False):
        calls["losses"] = (list(records), title, critic)
        path.write_bytes(b"png")
        return path

    def scores(records, path, references=None, title=None):
        calls["scores"] = (list(records), references, title)
        path.write_bytes(b"png")
        return path

    monkeypatch.setattr(curves, "plot_losses", losses)
    monkeypatch.setattr(curves, "plot_scores", scores)
    return calls


def test_plot_redraws_from_the_given_epoch_with_table_1s_line(tmp_path, drawn, capsys):
    run = _fake_run(tmp_path / "run")
    assert cli.main(["plot", str(run), "--from-epoch", "3"]) == 0
    steps, losses_title, critic = drawn["losses"]
    assert [r["epoch"] for r in steps] == [3, 4, 5, 6] and all(r["kind"] == "step" for r in steps)
    rows, references, title = drawn["scores"]
    assert [r["epoch"] for r in rows] == [4, 6]  # the scored epochs from 3 on
    assert references["parzen_ll"] == [(225, "paper, Table 1: 225")]
    assert not references["fid"] and not references["inception_score"]
    assert title == "mlp, last iterate, epochs 4-6" and losses_title == "mlp, nonsaturating generator loss"
    assert not critic  # D's outputs are probabilities
    out = capsys.readouterr().out
    assert f"wrote {run / 'losses.png'}" in out and f"wrote {run / 'scores.png'}" in out


def test_plot_names_a_preset_and_the_ema_generator(tmp_path, drawn):
    config = {"model": "goodfellow2014", "preset": "goodfellow2014", "loss": "nonsaturating", "ema": 0.999}
    run = _fake_run(tmp_path / "run", config=config)
    assert cli.main(["plot", str(run)]) == 0
    assert drawn["scores"][2] == "goodfellow2014, EMA generator, epochs 2-6"


@pytest.mark.parametrize("loss", ["hinge", "wgan-gp"])
def test_plot_draws_a_critics_outputs_as_critic_values(loss, tmp_path, drawn):
    run = _fake_run(tmp_path / "run", config={"model": "dcgan28", "loss": loss})
    assert cli.main(["plot", str(run)]) == 0
    assert drawn["losses"][1:] == (f"dcgan28, {loss} generator loss", True)


def test_plot_real_adds_the_real_data_lines(tmp_path, drawn, monkeypatch):
    from gan.evaluation import evaluate

    real = {"parzen_ll": 241.04, "parzen_se": 2.1, "fid": 5.151, "inception_score": 9.834, "modes_covered": 10}
    from minigrad import threads

    monkeypatch.setattr(evaluate, "reference_scores", lambda **kwargs: real)
    calls = []
    monkeypatch.setattr(threads, "set_num_threads", calls.append)
    run = _fake_run(tmp_path / "run")
    assert cli.main(["plot", str(run), "--real", "--threads", "1"]) == 0
    assert calls == [1]
    references = drawn["scores"][1]
    assert references["parzen_ll"] == [(225, "paper, Table 1: 225"), (241.04, "real MNIST: 241")]
    assert references["fid"] == [(5.151, "real MNIST: 5.15")]
    assert references["inception_score"] == [(9.834, "real MNIST: 9.83")]
    assert not references["modes_covered"]


def test_plot_writes_where_it_is_told_and_the_pngs_open(tmp_path, capsys):
    run = _fake_run(tmp_path / "run")
    scores, losses = tmp_path / "figs" / "s.png", tmp_path / "figs" / "l.png"
    (tmp_path / "figs").mkdir()
    assert cli.main(["plot", str(run), "--scores", str(scores), "--losses", str(losses)]) == 0
    for path in (scores, losses):
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size[0] > 300
    assert not (run / "scores.png").exists() and not (run / "losses.png").exists()


def test_a_run_without_scores_gets_losses_and_a_hint(tmp_path, drawn, capsys):
    run = _fake_run(tmp_path / "run", eval_every=0)
    assert cli.main(["plot", str(run)]) == 0
    assert "scores" not in drawn and not (run / "scores.png").exists()
    assert "--eval-every" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,mention",
    [
        (["{tmp}/nowhere"], "no metrics.jsonl there"),
        (["{run}", "--from-epoch", "7"], "no records of epoch 7 or later (its last epoch is 6)"),
        (["{run}", "--from-epoch", "0"], "expected a positive integer"),
        (["{run}", "--scores", "{run}/config.json/s.png"], "--scores {tmp}/run/config.json/s.png: cannot write there"),
    ],
)
def test_plot_usage_errors(args, mention, tmp_path, capsys):
    run = _fake_run(tmp_path / "run")
    argv = ["plot", *(a.format(tmp=tmp_path, run=run) for a in args)]
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert mention.format(tmp=tmp_path) in err and len(err.strip().splitlines()) == 1, err


def test_plot_of_a_run_cut_short_after_its_first_log_line(tmp_path, drawn, capsys):
    run = tmp_path / "run"
    run.mkdir()
    write_json(run / "config.json", {"model": "mlp", "loss": "nonsaturating"})
    step = {"kind": "step", "epoch": 1, "step": 100, "loss_d": 1.2, "loss_g": 0.9, "d_real": 0.6, "d_fake": 0.4}
    append_record(run / "metrics.jsonl", step)
    assert cli.main(["plot", str(run)]) == 0
    assert drawn["losses"][0] == [step] and "scores" not in drawn


def test_plot_of_an_empty_log_says_so(tmp_path, capsys):
    run = _fake_run(tmp_path / "run")
    (run / "metrics.jsonl").write_text("")
    with pytest.raises(SystemExit) as e:
        cli.main(["plot", str(run)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "metrics.jsonl holds no records yet" in err and "--from-epoch" not in err


@pytest.mark.parametrize("config", [None, "[1, 2]", "{not json"])
def test_plot_without_readable_settings_warns_and_draws(config, tmp_path, drawn, capsys):
    run = _fake_run(tmp_path / "run")
    if config is None:
        (run / "config.json").unlink()
    else:
        (run / "config.json").write_text(config)
    assert cli.main(["plot", str(run)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {run / 'config.json'}: cannot read the run's settings" in err
    assert drawn["losses"][1:] == ("?, ? generator loss", False) and drawn["scores"][2] == "?, last iterate, epochs 2-6"


def test_a_damaged_line_is_skipped_with_a_warning(tmp_path, drawn, capsys):
    run = _fake_run(tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"kind": "epoch", "epo')  # a crash in the middle of a line
    assert cli.main(["plot", str(run)]) == 0
    assert "line 13 is damaged" in capsys.readouterr().err
    assert [r["epoch"] for r in drawn["scores"][0]] == [2, 4, 6]


def test_the_trainer_draws_table_1s_line_and_titles_its_scores(mnist_dir, tmp_path, drawn):
    from gan.training.trainer import TrainConfig, train

    cfg = TrainConfig(
        data_dir=str(mnist_dir), limit=64, batch_size=32, width=0.1, outdir=str(tmp_path / "run"), quiet=True
    )
    cfg.epochs, cfg.eval_every = 2, 1
    train(cfg, evaluator=lambda G, epoch: {"parzen_ll": 100.0 + epoch, "parzen_se": 1.0})
    rows, references, title = drawn["scores"]
    assert [(r["epoch"], r["parzen_ll"]) for r in rows] == [(1, 101.0), (2, 102.0)]
    assert references["parzen_ll"] == [(225, "paper, Table 1: 225")]
    assert title == "mlp, last iterate, epochs 1-2"
    assert drawn["losses"][1:] == ("mlp, nonsaturating generator loss", False)


def test_a_non_numeric_value_is_skipped_with_a_warning(tmp_path, drawn, capsys):
    run = _fake_run(tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"kind": "epoch", "epoch": 7, "step": 70, "loss_d": "abc", "loss_g": 2.0, "fid": "x"}\n')
    assert cli.main(["plot", str(run)]) == 0
    err = capsys.readouterr().err
    assert "line 13: loss_d is 'abc', not a number" in err and "line 13: fid is 'x', not a number" in err, err
    assert read_metrics(run / "metrics.jsonl")[-1] == {"kind": "epoch", "epoch": 7, "step": 70, "loss_g": 2.0}
    assert [r["epoch"] for r in drawn["scores"][0]] == [2, 4, 6]


def test_several_runs_go_on_one_scores_figure_labelled_in_order(tmp_path, monkeypatch, capsys):
    calls = {}

    def compare(runs, path, references=None, title=None):
        calls["runs"], calls["references"], calls["title"] = (
            [(label, list(rows)) for label, rows in runs],
            references,
            title,
        )
        path.write_bytes(b"png")
        return path

    monkeypatch.setattr(curves, "compare_scores", compare)
    config = {"model": "goodfellow2014", "preset": "goodfellow2014", "loss": "nonsaturating"}
    a = _fake_run(tmp_path / "seed-a", epochs=6, eval_every=2, config=config)
    b = _fake_run(tmp_path / "seed-b", epochs=9, eval_every=3, config=config)
    out = tmp_path / "cmp.png"
    assert (
        cli.main(["plot", str(a), str(b), "--scores", str(out), "--from-epoch", "3", "--label", "A", "--label", "B"])
        == 0
    )
    assert [(label, [r["epoch"] for r in rows]) for label, rows in calls["runs"]] == [("A", [4, 6]), ("B", [3, 6, 9])]
    assert calls["references"]["parzen_ll"] == [(225, "paper, Table 1: 225")]
    assert calls["title"] == "goodfellow2014: 2 runs"
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert not (a / "losses.png").exists() and not (b / "scores.png").exists()
    assert cli.main(["plot", str(a), str(b), "--scores", str(out)]) == 0  # labels default to the folders' names
    assert [label for label, _ in calls["runs"]] == ["seed-a", "seed-b"]


def test_a_run_without_scores_is_left_out_of_the_comparison(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(curves, "compare_scores", lambda runs, path, **kw: drawn.append([l for l, _ in runs]) or path)
    a, b = _fake_run(tmp_path / "a"), _fake_run(tmp_path / "b", eval_every=0)
    assert cli.main(["plot", str(a), str(b), "--scores", str(tmp_path / "c.png")]) == 0
    assert drawn == [["a"]]


def test_the_comparison_draws_each_runs_values(tmp_path, monkeypatch):
    """The lines on the Parzen panel hold each run's records, in order, against their epochs."""
    from gan.figures import canvas

    panels = []  # per axes: (its named lines' {label: points}, its legend's texts), read before the figure is freed
    real_save = canvas.save_figure

    def keep(fig, path, dpi):
        for ax in fig.axes:
            named = {c.get_label(): c.lines[0].get_xydata().tolist() for c in ax.containers}  # errorbar lines
            named |= {line.get_label(): line.get_xydata().tolist() for line in ax.get_lines()}  # axhline
            named = {label: xy for label, xy in named.items() if not label.startswith("_")}
            panels.append((named, [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []))
        return real_save(fig, path, dpi)

    monkeypatch.setattr(curves, "save_figure", keep)
    runs = [
        ("one", [dict(epoch=e, parzen_ll=float(e * e), parzen_se=1.0) for e in (1, 2, 3)]),
        ("two", [dict(epoch=e, parzen_ll=-float(e), fid=9.0) for e in (2, 4)]),
    ]
    path = curves.compare_scores(runs, tmp_path / "c.png", references={"parzen_ll": [(225.0, "paper")]})
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > im.size[1]
    (parzen, parzen_legend), (fid, _) = panels
    assert parzen["one"] == [[1, 1], [2, 4], [3, 9]] and parzen["two"] == [[2, -2], [4, -4]]
    assert parzen["paper"][0][1] == 225.0 and sorted(parzen_legend) == ["one", "paper", "two"]
    assert list(fid) == ["two"] and fid["two"] == [[2, 9], [4, 9]]
    with pytest.raises(ValueError, match="no runs"):
        curves.compare_scores([], tmp_path / "none.png")


@pytest.mark.parametrize(
    "args,mention",
    [
        (["{run}", "{run}"], "--scores FILE.png: needed with several RUNs (2 given)"),
        (["{run}", "{run}", "--scores", "{tmp}/c.png", "--losses", "{tmp}/l.png"], "--losses: draws one run's losses"),
        (["{run}", "{run}", "--scores", "{tmp}/c.png", "--label", "x"], "--label: given 1 times for 2 RUNs"),
        (["{run}", "{tmp}/nowhere", "--scores", "{tmp}/c.png"], "RUN {tmp}/nowhere: no metrics.jsonl there"),
    ],
)
def test_comparison_usage_errors(args, mention, tmp_path, capsys):
    run = _fake_run(tmp_path / "run")
    with pytest.raises(SystemExit) as e:
        cli.main(["plot", *(a.format(tmp=tmp_path, run=run) for a in args)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert mention.format(tmp=tmp_path) in err and len(err.strip().splitlines()) == 1, err
