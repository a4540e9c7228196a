"""gan.data, gan.resize, gan.batches: IDX parsing, MNIST loading and checksums, image folders, resize, batching."""

import gzip
import hashlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan import data, pixels
from gan.batches import BatchIterator
from gan.data import DataError
from gan.resize import resize

IDX_CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype("i2"): 0x0B,
    np.dtype("i4"): 0x0C,
    np.dtype("f4"): 0x0D,
    np.dtype("f8"): 0x0E,
}


def idx_bytes(arr):
    """The IDX encoding, written independently of the reader: header with struct, big-endian data."""
    arr = np.asarray(arr)
    head = struct.pack(">BBBB", 0, 0, IDX_CODES[arr.dtype], arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr, gz):
    raw = idx_bytes(arr)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.fixture
def fake_mnist(tmp_path):
    """A tiny MNIST look-alike in MNIST's file layout, with a SHA256SUMS file."""
    rng = np.random.default_rng(0)
    d = tmp_path / "assets"
    d.mkdir()
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 7, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    lines = []
    for name, arr in arrays.items():
        write_idx(d / name, arr, gz=True)
        lines.append(f"{hashlib.sha256((d / name).read_bytes()).hexdigest()}  {name}")
    (d / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return d, arrays


# --- read_idx -----------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "shape,dtype", [((5, 4, 3), "u1"), ((9,), "u1"), ((2, 3), "i4"), ((4,), "f4"), ((2, 2), "i2"), ((3,), "f8")]
)
def test_read_idx_round_trip(tmp_path, gz, shape, dtype):
    rng = np.random.default_rng(1)
    arr = (rng.standard_normal(shape) * 100).astype(dtype)
    got = data.read_idx(write_idx(tmp_path / "x.idx", arr, gz))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_read_idx_detects_gzip_by_magic_not_suffix(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw_named_gz = write_idx(tmp_path / "a.gz", arr, gz=False)
    gz_named_raw = write_idx(tmp_path / "b-idx3-ubyte", arr, gz=True)
    np.testing.assert_array_equal(data.read_idx(raw_named_gz), arr)
    np.testing.assert_array_equal(data.read_idx(gz_named_raw), arr)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_payload(tmp_path, gz):
    raw = idx_bytes(np.zeros((4, 5, 5), np.uint8))[:-7]
    p = tmp_path / "trunc"
    p.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(DataError, match="truncated") as e:
        data.read_idx(p)
    assert str(p) in str(e.value)


def test_read_idx_truncated_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(4000, dtype=np.int32) % 251))
    p = tmp_path / "cut.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError) as e:
        data.read_idx(p)
    assert str(p) in str(e.value)


@pytest.mark.parametrize(
    "content,match",
    [
        (b"\x00\x00", "truncated"),
        (b"\x01\x02\x08\x01\x00\x00\x00\x01\x00", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "dtype code 0x07"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02\x05\x06\x07", "trailing"),
        (b"\x00\x00\x08\x04" + b"\xff" * 16, "implausible"),
    ],
)
def test_read_idx_corrupt_headers(tmp_path, content, match):
    p = tmp_path / "bad-idx"
    p.write_bytes(content)
    with pytest.raises(DataError, match=match) as e:
        data.read_idx(p)
    assert str(p) in str(e.value)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.read_idx(tmp_path / "nope")


# --- load_mnist ---------------------------------------------------------------------------------


def test_bundled_mnist_shapes_and_labels():
    x, y = data.load_mnist("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert set(np.unique(y)) == set(range(10))
    assert y[0] == 5  # the well-known first training digit
    xt, yt = data.load_mnist("test")
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert set(np.unique(yt)) == set(range(10)) and yt[0] == 7
    assert x.max() == 255 and x.min() == 0


def test_load_mnist_verifies_checksums(fake_mnist, monkeypatch):
    d, arrays = fake_mnist
    monkeypatch.setattr(data, "MNIST_ASSETS_DIR", d)
    x, y = data.load_mnist("test")
    np.testing.assert_array_equal(x, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte.gz"])


def test_load_mnist_checksum_mismatch(fake_mnist, monkeypatch):
    d, _ = fake_mnist
    monkeypatch.setattr(data, "MNIST_ASSETS_DIR", d)
    # a valid IDX file with different content: only the checksum can catch it
    write_idx(d / "train-labels-idx1-ubyte.gz", np.full(7, 3, np.uint8), gz=True)
    with pytest.raises(DataError, match="SHA-256 mismatch") as e:
        data.load_mnist("train")
    assert "train-labels-idx1-ubyte.gz" in str(e.value)
    data.load_mnist("train", verify=False)  # structurally fine


def test_load_mnist_checksum_cached_per_process(fake_mnist, monkeypatch):
    d, _ = fake_mnist
    monkeypatch.setattr(data, "MNIST_ASSETS_DIR", d)
    calls = []
    real = data.sha256_file
    monkeypatch.setattr(data, "sha256_file", lambda p: calls.append(p) or real(p))
    data.load_mnist("test")
    data.load_mnist("test")
    assert len(calls) == 2  # images and labels, hashed once each


def test_load_mnist_missing_and_truncated(fake_mnist, monkeypatch):
    d, _ = fake_mnist
    monkeypatch.setattr(data, "MNIST_ASSETS_DIR", d)
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        data.load_mnist("test")
    p = d / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        data.load_mnist("train")  # checksum catches it first
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        data.load_mnist("train", verify=False)  # and the structure check without it


@pytest.mark.parametrize(
    "names",
    [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),  # MNIST, unpacked
        ("train-images.idx3-ubyte", "train-labels.idx1-ubyte"),  # a common variant
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),  # Fashion-MNIST as downloaded
    ],
)
def test_load_mnist_from_data_dir(tmp_path, names):
    imgs = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28).astype(np.uint8)
    labels = np.array([4, 9], np.uint8)
    write_idx(tmp_path / names[0], imgs, gz=names[0].endswith(".gz"))
    write_idx(tmp_path / names[1], labels, gz=names[1].endswith(".gz"))
    x, y = data.load_mnist("train", data_dir=tmp_path)
    np.testing.assert_array_equal(x, imgs)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_data_dir_errors(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        data.load_mnist("test", data_dir=tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8), gz=False)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist("test", data_dir=tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8), gz=False)
    with pytest.raises(DataError, match="2 images but .* 3 labels"):
        data.load_mnist("test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("valid")


# --- image folders and load_dataset -------------------------------------------------------------


def test_load_image_folder_and_dataset(tmp_path):
    from PIL import Image

    d = tmp_path / "imgs" / "train"
    (d / "cats").mkdir(parents=True)
    Image.fromarray(np.full((10, 12), 255, np.uint8)).save(d / "a.png")
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(d / "cats" / "b.png")
    Image.fromarray(np.full((8, 8, 3), [255, 0, 0], np.uint8)).save(d / "c.jpg", quality=100)
    (d / "notes.txt").write_text("not an image")

    x = data.load_image_folder(d, image_size=16)
    assert x.shape == (3, 1, 16, 16) and x.dtype == np.uint8
    # sorted paths: a.png (white), c.jpg (red), cats/b.png (black)
    assert (x[0] == 255).all() and (x[2] == 0).all()
    assert abs(float(x[1].mean()) - 0.299 * 255) < 3  # ITU-R 601 luma of pure red
    rgb = data.load_image_folder(d, image_size=(6, 7), channels=3)
    assert rgb.shape == (3, 3, 6, 7)
    assert rgb[1, 0].min() > 240 and rgb[1, 1:].max() < 15

    ds = data.load_dataset(tmp_path / "imgs", split="train", image_size=28)  # picks imgs/train
    assert ds.shape == (3, 1, 28, 28) and ds.dtype == np.float32
    assert ds.min() == -1.0 and ds.max() == 1.0


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no images"):
        data.load_image_folder(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        data.load_image_folder(tmp_path)


def test_every_folder_image_is_resized_on_its_own(tmp_path):
    """One small image first in the folder must not set the size of all the others (it made them 2x2 blurs)."""
    from PIL import Image

    from gan.config import TrainConfig
    from gan.training.trainer import load_training_images

    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    Image.fromarray(np.full((2, 2), 255, np.uint8)).save(tmp_path / "a_tiny.png")
    for i, img in enumerate(digits):
        Image.fromarray(img).save(tmp_path / f"b_{i}.png")
    x = load_training_images(TrainConfig(data_dir=str(tmp_path), batch_size=1).validate())
    assert x.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(x[1:, 0], pixels.uint8_to_signed_unit(digits))  # 28x28 already: untouched
    assert (x[0] == 1.0).all()  # the white 2x2 image, scaled up alone
    # the same with --limit: only the first N files are decoded, each at the model's size
    y = load_training_images(TrainConfig(data_dir=str(tmp_path), batch_size=1, limit=3).validate())
    np.testing.assert_array_equal(y, x[:3])
    # without a size, images of different sizes are an error naming two of them
    with pytest.raises(DataError, match=r"b_0.png is 28x28 but .*a_tiny.png is 2x2"):
        data.load_image_folder(tmp_path)


def test_an_image_too_large_to_decode_safely_is_a_data_error(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from gan import cli

    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "huge.png")
    for limit in (1000, 700):  # 1600 pixels: over the limit (Pillow warns), over twice the limit (it raises)
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
        with pytest.raises(DataError, match=r"huge.png is too large to decode safely"):
            data.load_image_folder(tmp_path, image_size=28)
    code = cli.main(
        [
            "train",
            "--data-dir",
            str(tmp_path),
            "--outdir",
            str(tmp_path / "run"),
            "--quiet",
            "--batch-size",
            "1",
            "--threads",
            "1",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "huge.png is too large to decode safely" in err, err


def test_load_dataset_bundled_test_split():
    x = data.load_dataset(split="test", image_size=32, channels=3)
    assert x.shape == (10000, 3, 32, 32) and x.dtype == np.float32
    assert -1.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x[:, 0], x[:, 2])


# --- preprocessing ------------------------------------------------------------------------------


def test_uint8_to_signed_unit():
    px = np.arange(256, dtype=np.uint8).reshape(16, 16)
    x = pixels.uint8_to_signed_unit(px)
    assert x.dtype == np.float32 and x.shape == px.shape
    assert x[0, 0] == -1.0 and x[-1, -1] == 1.0
    np.testing.assert_allclose(x, px.astype(np.float64) / 127.5 - 1.0, rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="uint8"):
        pixels.uint8_to_signed_unit(x)
    np.testing.assert_allclose(pixels.signed_unit_to_unit(x), px / 255.0, atol=1e-6)


def bilinear_reference(img, oh, ow):
    """Naive per-pixel bilinear with half-pixel centres and edge clamping (PyTorch align_corners=False)."""
    h, w = img.shape
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            sy = max((i + 0.5) * h / oh - 0.5, 0.0)
            sx = max((j + 0.5) * w / ow - 0.5, 0.0)
            y0, x0 = min(int(sy), h - 1), min(int(sx), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            fy, fx = sy - y0, sx - x0
            out[i, j] = (1 - fy) * ((1 - fx) * img[y0, x0] + fx * img[y0, x1]) + fy * (
                (1 - fx) * img[y1, x0] + fx * img[y1, x1]
            )
    return out


@pytest.mark.parametrize("hw,out", [((5, 7), (11, 9)), ((28, 28), (64, 64)), ((6, 6), (6, 13))])
def test_resize_upsampling_matches_naive_bilinear(hw, out):
    rng = np.random.default_rng(2)
    x = rng.random((2, 3) + hw).astype(np.float32)
    got = resize(x, out)
    assert got.shape == (2, 3) + out and got.dtype == np.float32
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(
                got[n, c], bilinear_reference(x[n, c].astype(np.float64), *out), rtol=0, atol=1e-5
            )


def test_resize_halving_without_antialias_averages_2x2_blocks():
    x = np.random.default_rng(3).random((1, 1, 8, 6)).astype(np.float32)
    ref = x.reshape(1, 1, 4, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(resize(x, (4, 3), antialias=False), ref, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(4, 40),
    w=st.integers(4, 40),
    oh=st.integers(2, 70),
    ow=st.integers(2, 70),
    a=st.floats(-2, 2),
    b=st.floats(-2, 2),
    c=st.floats(-3, 3),
    antialias=st.booleans(),
)
def test_resize_preserves_constants_and_linear_ramps(h, w, oh, ow, a, b, c, antialias):
    const = np.full((1, 2, h, w), c, np.float32)
    np.testing.assert_allclose(resize(const, (oh, ow), antialias), c, atol=1e-5)
    # f(y, x) = a*(y + 1/2) + b*(x + 1/2) sampled at pixel centres; output pixel (i, j) sits at
    # ((i + 1/2) h/oh, (j + 1/2) w/ow) in the same coordinates. Exact wherever the filter stays inside,
    # except when shrinking by a non-integer factor with antialias: the widened triangle then has
    # asymmetric taps on the pixel grid (as in Pillow), so only constants are exact along that axis.
    a = a if (not antialias or oh >= h or h % oh == 0) else 0.0
    b = b if (not antialias or ow >= w or w % ow == 0) else 0.0
    yy, xx = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    ramp = (a * yy + b * xx).astype(np.float32)[None, None]
    got = resize(ramp, (oh, ow), antialias)[0, 0]
    cy, cx = (np.arange(oh) + 0.5) * h / oh, (np.arange(ow) + 0.5) * w / ow
    ry = max(h / oh, 1.0) if antialias else 1.0
    rx = max(w / ow, 1.0) if antialias else 1.0
    iy = (cy - ry >= 0) & (cy + ry <= h)  # the filter support lies within the image
    ix = (cx - rx >= 0) & (cx + rx <= w)
    expected = a * cy[:, None] + b * cx[None, :]
    np.testing.assert_allclose(got[np.ix_(iy, ix)], expected[np.ix_(iy, ix)], atol=2e-4)


def test_resize_same_size_and_errors():
    x = np.random.default_rng(4).random((2, 1, 5, 5)).astype(np.float32)
    y = resize(x, 5)
    np.testing.assert_array_equal(y, x)
    assert y is not x
    with pytest.raises(ValueError, match="resize"):
        resize(np.zeros(5, np.float32), 3)


# --- BatchIterator ------------------------------------------------------------------------------


def test_batch_iterator_covers_every_index_once_per_epoch():
    x = np.arange(103)
    it = BatchIterator(x, 10, seed=0, drop_last=False)
    assert len(it) == 11
    for e in range(3):
        batches = list(it.epoch(e))
        assert [len(b) for b in batches] == [10] * 10 + [3]
        np.testing.assert_array_equal(np.sort(np.concatenate(batches)), x)
    assert not np.array_equal(np.concatenate(list(it.epoch(0))), np.concatenate(list(it.epoch(1))))


def test_batch_iterator_drop_last():
    it = BatchIterator(np.arange(103), 10, seed=0)
    batches = list(it.epoch(0))
    assert len(it) == 10 and len(batches) == 10 and all(len(b) == 10 for b in batches)
    assert len(np.unique(np.concatenate(batches))) == 100
    with pytest.raises(ValueError, match="no full batch"):
        BatchIterator(np.arange(5), 10, seed=0)


def test_batch_iterator_seeded_and_resumable():
    x = np.random.default_rng(5).random((50, 2)).astype(np.float32)
    a = BatchIterator(x, 8, seed=42)
    run = [list(a) for _ in range(3)]  # plain iteration walks epochs 0, 1, 2
    b = BatchIterator(x, 8, seed=42)
    resumed = list(b.epoch(2))  # epoch 2 directly, without replaying 0 and 1
    for u, v in zip(run[2], resumed):
        np.testing.assert_array_equal(u, v)
    mid = list(b.epoch(2, start=3))
    for u, v in zip(run[2][3:], mid):
        np.testing.assert_array_equal(u, v)
    other = list(BatchIterator(x, 8, seed=43).epoch(2))
    assert not all(np.array_equal(u, v) for u, v in zip(resumed, other))
    # the order is exactly the rows of x chosen by the permutation
    order = b.order(2)
    np.testing.assert_array_equal(np.concatenate(resumed), x[order[:48]])


def test_batch_iterator_tuples_and_no_shuffle():
    x, y = np.arange(12) * 10, np.arange(12)
    it = BatchIterator((x, y), 4, seed=0)
    for xb, yb in it.epoch(1):
        np.testing.assert_array_equal(xb, yb * 10)
    plain = BatchIterator(x, 5, seed=0, shuffle=False, drop_last=False)
    np.testing.assert_array_equal(np.concatenate(list(plain.epoch(7))), x)
    with pytest.raises(ValueError, match="differ in length"):
        BatchIterator((x, y[:5]), 2, seed=0)


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_pngs_are_scaled_by_their_bit_depth_not_clipped(tmp_path, channels):
    """130 16-bit grey PNGs with 60 levels became 2 distinct images (Pillow's I;16 -> L clips at 255); each value v
    of 0..65535 must read as round(v * 255 / 65535), so 16-bit white is 8-bit white."""
    from PIL import Image

    levels = np.linspace(0, 65535, 60).round().astype(np.uint16)
    for i, level in enumerate(levels):
        a = np.full((4, 4), level, dtype=np.uint16)
        a[0, 0] = 65535 - level  # not flat: both ends of the range in every image
        Image.fromarray(a).save(tmp_path / f"{i:03d}.png")
        assert Image.open(tmp_path / f"{i:03d}.png").mode in ("I;16", "I")  # I: older Pillow
    x = data.load_image_folder(tmp_path, channels=channels)
    want = np.rint(levels.astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert x.shape == (60, channels, 4, 4)
    np.testing.assert_array_equal(x[:, :, 1, 1], np.repeat(want[:, None], channels, axis=1))
    np.testing.assert_array_equal(x[:, :, 0, 0], np.repeat(255 - want[:, None], channels, axis=1))
    assert len({im.tobytes() for im in x}) == 60


def test_an_image_without_a_fixed_bit_depth_is_refused(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((4, 4), 0.5, dtype=np.float32)).save(tmp_path / "a.tiff")
    (tmp_path / "a.tiff").rename(tmp_path / "a.png")  # Pillow reads it by content: a float image
    with pytest.raises(DataError, match=r"a\.png is a mode F image \(32-bit floats\).*8- or 16-bit"):
        data.load_image_folder(tmp_path)
