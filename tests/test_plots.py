"""gan.figures: image grids, PNG/GIF files (grids), loss and score figures (curves)."""

import numpy as np
import pytest
from PIL import Image

from gan.figures import curves, grids

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as im:
        im.verify()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers


@pytest.mark.parametrize(
    "n,nrow,padding,rows,cols",
    [(64, None, 2, 8, 8), (10, None, 2, 3, 4), (10, 5, 0, 2, 5), (1, None, 3, 1, 1), (7, 20, 1, 1, 7)],
)
def test_image_grid_shape_formula(n, nrow, padding, rows, cols):
    h, w = 5, 3
    g = grids.image_grid(np.zeros((n, 1, h, w), np.float32), nrow=nrow, padding=padding)
    assert g.shape == (rows * (h + padding) + padding, cols * (w + padding) + padding)
    assert g.dtype == np.float32
    rgb = grids.image_grid(np.zeros((n, 3, h, w), np.float32), nrow=nrow, padding=padding)
    assert rgb.shape == g.shape + (3,)


def test_image_grid_places_images_row_major():
    rng = np.random.default_rng(0)
    x = rng.random((5, 4, 6)).astype(np.float32)  # (N, H, W)
    g = grids.image_grid(x, nrow=2, padding=1, pad_value=0.25)
    for k in range(5):
        r, c = k // 2, k % 2
        top, left = 1 + r * 5, 1 + c * 7
        np.testing.assert_array_equal(g[top : top + 4, left : left + 6], x[k])
    assert (g[:, 0] == 0.25).all() and (g[0] == 0.25).all()
    assert (g[11:15, 8:14] == 0.25).all()  # the empty sixth cell


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        grids.image_grid(np.full((2, 1, 3, 3), -1.0, np.float32))
    with pytest.raises(ValueError, match="shape"):
        grids.image_grid(np.zeros((2, 2, 3, 3), np.float32))
    nan = np.full((1, 1, 2, 2), np.nan, np.float32)
    assert (grids.image_grid(nan, padding=0) == 0).all()


def test_save_grid_png(tmp_path):
    x = np.random.default_rng(1).random((6, 1, 8, 8)).astype(np.float32)
    p = grids.save_grid(x, tmp_path / "sub" / "grid.png", nrow=3)
    assert_png(p)
    with Image.open(p) as im:
        assert im.size == (3 * 10 + 2, 2 * 10 + 2)  # pixel for pixel: (width, height)
        px = np.asarray(im)
    np.testing.assert_array_equal(px[2:10, 2:10], np.round(x[0, 0] * 255).astype(np.uint8))
    titled = grids.save_grid(np.repeat(x, 3, axis=1), tmp_path / "titled.png", title="epoch 3")
    assert_png(titled)


def test_save_gif_frames(tmp_path):
    frames = []
    for k in range(3):
        x = np.full((4, 1, 6, 6), k / 2, np.float32)  # distinct frames (Pillow merges equal ones)
        frames.append(grids.save_grid(x, tmp_path / f"f{k}.png"))
    gif = grids.save_gif(frames, tmp_path / "progress.gif", duration_ms=100)
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    with Image.open(gif) as im:
        assert im.n_frames == 3 and im.is_animated
        assert np.asarray(im.convert("L")).min() == 0  # first frame: black images
        im.seek(2)
        assert np.asarray(im.convert("L")).min() == 255  # last frame: all white
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ValueError, match="no frames"):
        grids.save_gif([], tmp_path / "empty.gif")


def test_plot_losses(tmp_path):
    rng = np.random.default_rng(2)
    recs = [
        dict(step=s, loss_d=1.3 + rng.normal(0, 0.1), loss_g=0.8 + rng.normal(0, 0.1), d_real=0.6, d_fake=0.4)
        for s in range(0, 2000, 10)
    ]
    assert_png(curves.plot_losses(recs, tmp_path / "losses.png"))
    assert_png(curves.plot_losses(recs[:5], tmp_path / "few.png", title="short"))
    with pytest.raises(ValueError, match="no records"):
        curves.plot_losses([], tmp_path / "x.png")


@pytest.mark.parametrize("critic", [False, True])
def test_plot_losses_labels_probabilities_or_critic_values(critic, tmp_path, monkeypatch):
    seen = {}

    def keep(fig, path, dpi):  # look at the figure's axes instead of its pixels
        seen["axes"] = fig.axes
        return path

    monkeypatch.setattr(curves, "save_figure", keep)
    recs = [dict(step=s, loss_d=1.0, loss_g=1.0, d_real=3.0 + s, d_fake=-2.0 - s) for s in range(5)]
    curves.plot_losses(recs, tmp_path / "losses.png", critic=critic)
    ax = seen["axes"][1]
    labels = ax.get_legend_handles_labels()[1]
    if critic:  # the values' own scale, no equilibrium line
        assert ax.get_ylabel() == "mean critic output" and labels == ["f(x), real", "f(G(z)), fake"]
        assert ax.get_ylim()[0] <= -6.0 and ax.get_ylim()[1] >= 7.0
    else:
        assert ax.get_ylabel() == "mean discriminator output"
        assert labels == ["D(x), real", "D(G(z)), fake", "equilibrium 1/2"] and ax.get_ylim() == (-0.02, 1.02)


def test_plot_scores(tmp_path):
    recs = [dict(epoch=e, parzen_ll=100.0 + 10 * e, parzen_se=2.0, fid=50.0 / (e + 1)) for e in range(5)]
    p = curves.plot_scores(recs, tmp_path / "scores.png", references={"parzen_ll": [(225.0, "paper")]})
    assert_png(p)
    with Image.open(p) as im:  # two panels side by side: wider than tall
        assert im.size[0] > im.size[1]
    assert_png(curves.plot_scores([dict(epoch=0, inception_score=8.1)], tmp_path / "one.png"))
    with pytest.raises(ValueError, match="none of the metrics"):
        curves.plot_scores([dict(epoch=0)], tmp_path / "none.png")


def test_moving_average_matches_loop():
    y = np.random.default_rng(3).random(17)
    ref = [y[max(0, i - 4) : i + 1].mean() for i in range(17)]
    np.testing.assert_allclose(curves.moving_average(y, 5), ref)


@pytest.mark.parametrize("n,k", [(100, 60), (61, 60), (60, 60), (5, 60), (7, 2), (9, 1)])
def test_evenly_spaced_keeps_first_last_and_order(n, k):
    picked = grids.evenly_spaced(range(n), k)
    assert len(picked) == min(n, k)
    assert picked[-1] == n - 1 and (k == 1 or picked[0] == 0)
    assert all(a < b for a, b in zip(picked, picked[1:]))
    if n > k > 1:  # gaps differ by at most one
        gaps = [b - a for a, b in zip(picked, picked[1:])]
        assert max(gaps) - min(gaps) <= 1


def test_save_gif_mixed_gray_and_colour_frames(tmp_path):
    from PIL import Image

    gray = np.full((4, 4, 3), 100, np.uint8)
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[..., 0] = 255
    paths = []
    for i, a in enumerate((gray, colour)):
        paths.append(tmp_path / f"f{i}.png")
        Image.fromarray(a).save(paths[-1])
    out = grids.save_gif(paths, tmp_path / "mix.gif")
    with Image.open(out) as im:
        assert im.n_frames == 2
        im.seek(1)
        assert tuple(im.convert("RGB").getpixel((0, 0)))[0] > 200  # the red frame stayed red
