"""Training data for the GANs: MNIST from IDX files, image folders (resizing: gan.resize; minibatches:
gan.batches).

NumPy only: the training loop turns each batch into a minigrad tensor.

* ``read_idx``        one IDX file (gzipped or raw) -> uint8 array, with structural checks.
* ``load_mnist``      the bundled MNIST (SHA-256 verified) or the same files in a user folder.
* ``load_image_folder`` / ``load_dataset``  PNG/JPEG folders, and one entry point for training.

IDX format (LeCun's MNIST page): 2 zero bytes, a dtype code, the number of dims, then one
big-endian uint32 per dim, then the data in C order, big-endian.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

from gan.pixels import uint8_to_signed_unit, uint8_to_unit
from gan.resize import image_hw, resize

# Where the four MNIST files ship inside the package (a module attribute so tests can point it
# at a folder of small fake files).
MNIST_ASSETS_DIR = Path(__file__).resolve().parent / "assets" / "mnist"
CHECKSUM_FILE = "SHA256SUMS"
SPLITS = ("train", "test")
# Split -> file name prefix. 't10k' is MNIST's name for the test set; some mirrors use 'test'.
_PREFIXES = {"train": ("train",), "test": ("t10k", "test")}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

_GZIP_MAGIC = b"\x1f\x8b"
# IDX dtype code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAX_PAYLOAD = 1 << 34  # 16 GiB: a bigger header size means a corrupt header, not a dataset

# (resolved path, size, mtime_ns) of bundled files whose SHA-256 already matched in this process.
_verified: set[tuple[str, int, int]] = set()


class DataError(ValueError):
    """A data file is missing, truncated, corrupt, or fails its checksum."""


# --- IDX files ----------------------------------------------------------------------------------


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _read_exact(f, n: int) -> bytes:
    """Up to n bytes (fewer only at end of file)."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _readinto_exact(f, buf: memoryview) -> int:
    """Fill buf from f; returns the number of bytes read (less than len(buf) means truncated)."""
    got = 0
    while got < len(buf):
        n = f.readinto(buf[got:])
        if not n:
            break
        got += n
    return got


def read_idx(path) -> np.ndarray:
    """Parse an IDX file, gzipped or not (told apart by the gzip magic bytes 1f 8b, not the suffix).

    Returns an array of the file's shape: uint8 for MNIST (dtype code 0x08); other IDX dtypes
    come back in native byte order. Raises DataError naming the path for a missing file, a bad
    magic number, an unknown dtype code, a truncated payload, trailing bytes or a corrupt gzip stream.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"read_idx: {path}: no such file")
    compressed = _is_gzip(path)
    opener = gzip.open if compressed else open
    kind = "gzipped IDX" if compressed else "IDX"
    try:
        with opener(path, "rb") as f:
            head = _read_exact(f, 4)
            if len(head) < 4:
                raise DataError(
                    f"read_idx: {path}: truncated {kind} file: {len(head)} bytes, shorter than the 4-byte magic number"
                )
            if head[:2] != b"\x00\x00":
                raise DataError(
                    f"read_idx: {path}: not an IDX file (magic number 0x{head.hex()}, "
                    "expected 0x0000 followed by a dtype code and the number of dims)"
                )
            code, ndim = head[2], head[3]
            if code not in _IDX_DTYPES:
                known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
                raise DataError(f"read_idx: {path}: unknown IDX dtype code 0x{code:02X} (known: {known})")
            if ndim == 0:
                raise DataError(f"read_idx: {path}: IDX header declares 0 dimensions")
            dim_bytes = _read_exact(f, 4 * ndim)
            if len(dim_bytes) < 4 * ndim:
                raise DataError(
                    f"read_idx: {path}: truncated {kind} header: {ndim} dims need "
                    f"{4 * ndim} bytes, got {len(dim_bytes)}"
                )
            shape = tuple(int(d) for d in np.frombuffer(dim_bytes, dtype=">u4"))
            dtype = _IDX_DTYPES[code]
            expected = math.prod(shape) * dtype.itemsize
            if expected > _MAX_PAYLOAD:
                raise DataError(f"read_idx: {path}: implausible IDX header: shape {shape} would need {expected} bytes")
            out = np.empty(shape, dtype=dtype)
            got = _readinto_exact(f, out.reshape(-1).view(np.uint8).data)
            if got < expected:
                raise DataError(
                    f"read_idx: {path}: truncated {kind} file: header shape {shape} needs "
                    f"{expected} data bytes, got {got}"
                )
            if f.read(1):
                raise DataError(
                    f"read_idx: {path}: corrupt {kind} file: trailing bytes after the "
                    f"{expected} data bytes of shape {shape}"
                )
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"read_idx: {path}: corrupt or truncated gzip stream ({e})") from e
    return out if dtype.itemsize == 1 else out.astype(dtype.newbyteorder("="))


# --- checksums ----------------------------------------------------------------------------------


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_checksums(path) -> dict[str, str]:
    """Parse a `sha256sum` file ("<hex>  <name>" or "<hex> *<name>" per line) -> {name: hex}."""
    sums = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(f"{path}:{lineno}: not a sha256sum line: {line!r}")
        sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def _verify(path: Path, sums_path: Path) -> None:
    """Check path's SHA-256 against sums_path once per process (keyed on path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _verified:
        return
    if not sums_path.is_file():
        raise DataError(f"load_mnist: checksum file {sums_path} is missing (needed to verify {path})")
    expected = read_checksums(sums_path).get(path.name)
    if expected is None:
        raise DataError(f"load_mnist: {sums_path} has no entry for {path.name}")
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(
            f"load_mnist: SHA-256 mismatch for {path}: expected {expected}, got {actual} "
            "(the file is corrupt or was replaced; reinstall the package or restore it)"
        )
    _verified.add(key)


# --- MNIST --------------------------------------------------------------------------------------


def _candidate_names(split: str, kind: str) -> list[str]:
    """File names tried for one split/kind, e.g. train-images-idx3-ubyte(.gz), train-images.idx3-ubyte."""
    ndim = 3 if kind == "images" else 1
    names = []
    for prefix in _PREFIXES[split]:
        for stem in (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"):
            names += [stem + ".gz", stem]
    return names


def find_idx_files(data_dir, split: str = "train") -> tuple[Path, Path] | None:
    """(images, labels) paths of a split in data_dir, or None when the images file is absent.

    Raises DataError when the images are there but the labels are not.
    """
    _check_split(split)
    data_dir = Path(data_dir)
    found = {}
    for kind in ("images", "labels"):
        found[kind] = next((data_dir / n for n in _candidate_names(split, kind) if (data_dir / n).is_file()), None)
    if found["images"] is None:
        return None
    if found["labels"] is None:
        raise DataError(
            f"load_mnist: found {found['images']} but no labels file in {data_dir}; looked for "
            + ", ".join(_candidate_names(split, "labels"))
        )
    return found["images"], found["labels"]


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"load_mnist: split must be one of {SPLITS}, got {split!r}")


def load_mnist(split: str = "train", data_dir=None, verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST (or a drop-in like Fashion-MNIST) -> (images uint8 (N, 28, 28), labels uint8 (N,)).

    data_dir=None: the files bundled with the package, SHA-256 checked against SHA256SUMS on the
    first load in this process (verify=False skips that). data_dir=DIR: the same four files in DIR,
    gzipped or not, under MNIST's or Fashion-MNIST's names; a SHA256SUMS file there is used when
    present, otherwise only the structural checks apply.
    """
    _check_split(split)
    if data_dir is None:
        directory = Path(MNIST_ASSETS_DIR)
        prefix = _PREFIXES[split][0]
        paths = (directory / f"{prefix}-images-idx3-ubyte.gz", directory / f"{prefix}-labels-idx1-ubyte.gz")
        for p in paths:
            if not p.is_file():
                raise DataError(f"load_mnist: bundled MNIST file {p} is missing (reinstall the package)")
        sums = directory / CHECKSUM_FILE
        if verify:
            for p in paths:
                _verify(p, sums)
    else:
        directory = Path(data_dir)
        if not directory.is_dir():
            raise DataError(f"load_mnist: data directory {directory} does not exist")
        found = find_idx_files(directory, split)
        if found is None:
            raise DataError(
                f"load_mnist: no {split} images in {directory}; looked for "
                + ", ".join(_candidate_names(split, "images"))
            )
        paths = found
        sums = directory / CHECKSUM_FILE
        if verify and sums.is_file():
            listed = read_checksums(sums)
            for p in paths:
                if p.name in listed:
                    _verify(p, sums)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"load_mnist: {paths[0]}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"load_mnist: {paths[1]}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"load_mnist: {paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels")
    return images, labels


# --- image folders ------------------------------------------------------------------------------


# Pillow modes with more than 8 bits a sample, and their bit depth (PNG's 16-bit grey)
_HIGH_BIT_DEPTHS = {"I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16}


def _as_8_bit(im, path):
    """``im`` with 8-bit samples: a 16-bit image scaled by 255 / 65535 (Pillow's convert would clip it at 255);
    a 32-bit integer or float image, which has no fixed range, is a DataError."""
    from PIL import Image

    bits = _HIGH_BIT_DEPTHS.get(im.mode)
    if im.mode == "I" and im.format == "PNG":  # older Pillow reads 16-bit grey PNGs as I
        bits = 16
    if bits is not None:
        a = np.asarray(im, dtype=np.float64) * (255 / (2**bits - 1))
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    if im.mode in ("I", "F"):
        kind = "32-bit integers" if im.mode == "I" else "32-bit floats"
        raise DataError(
            f"load_image_folder: {path} is a mode {im.mode} image ({kind}), which has no fixed range to scale to "
            f"0..255; save it as an 8- or 16-bit image"
        )
    return im


def load_image_folder(directory, image_size=None, channels: int = 1, limit=None) -> np.ndarray:
    """Every *.png / *.jpg / *.jpeg under directory (recursively, sorted) -> uint8 (N, C, H, W).

    Images are converted to grayscale (channels=1) or RGB (channels=3), and each one is resized on
    its own (Pillow's bilinear, antialiased when shrinking) to image_size (int or (h, w)).
    image_size=None keeps their size, which must then be the same for all (else a DataError naming
    two files that differ). ``limit``: only the first N files. An image too large to decode safely
    (over Pillow's MAX_IMAGE_PIXELS) is a DataError naming it. A 16-bit image is scaled to 8 bits by its
    bit depth (v * 255 / 65535, rounded); a 32-bit integer or float one, with no fixed range, is a DataError.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError  # Pillow ships with matplotlib

    if channels not in (1, 3):
        raise ValueError(f"load_image_folder: channels must be 1 or 3, got {channels}")
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"load_image_folder: {directory} is not a directory")
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(
            f"load_image_folder: no images ({', '.join('*' + s for s in IMAGE_SUFFIXES)}) under {directory}"
        )
    files = files[:limit] if limit is not None else files
    mode = "L" if channels == 1 else "RGB"
    out: np.ndarray | None = None
    for i, p in enumerate(files):
        try:
            with warnings.catch_warnings():  # Pillow warns from MAX_IMAGE_PIXELS and raises from twice that
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(p) as im:
                    native = im.size
                    im = _as_8_bit(im, p).convert(mode)
                    if out is None:
                        h, w = image_hw(image_size) if image_size is not None else (im.height, im.width)
                        out, first = np.empty((len(files), channels, h, w), dtype=np.uint8), p
                    if im.size != (w, h):
                        if image_size is None:
                            raise DataError(
                                f"load_image_folder: {p} is {native[0]}x{native[1]} but {first} is "
                                f"{w}x{h}; images of different sizes need an image size to be "
                                f"resized to"
                            )
                        im = im.resize((w, h), Image.Resampling.BILINEAR)
                    a = np.asarray(im, dtype=np.uint8)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise DataError(f"load_image_folder: {p} is too large to decode safely ({e})") from None
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"load_image_folder: cannot read image {p}: {e}") from e
        out[i] = a[None] if channels == 1 else a.transpose(2, 0, 1)
    if out is None:
        raise DataError(f"load_image_folder: limit {limit} keeps none of the images under {directory}")
    return out


def load_dataset(
    data_dir=None, split: str = "train", image_size=28, channels: int = 1, value_range=(-1, 1), limit=None
) -> np.ndarray:
    """Training images as float32 (N, C, H, W) in [-1, 1] (``value_range=(0, 1)``: in [0, 1], x / 255).

    data_dir=None: bundled MNIST. Otherwise MNIST-style IDX files in data_dir when present, else
    an image folder (data_dir/split when that folder exists, else data_dir itself). image_size
    (int, (h, w) or None for the native size) resizes bilinearly, each image of a folder on its
    own; channels is 1 or 3 (gray images are repeated to RGB). ``limit``: only the first N images,
    taken before anything is resized. The labels (for a conditional GAN) come from ``load_labels``.
    """
    if channels not in (1, 3):
        raise ValueError(f"load_dataset: channels must be 1 or 3, got {channels}")
    if tuple(value_range) not in ((-1, 1), (0, 1)):
        raise ValueError(f"load_dataset: value_range must be (-1, 1) or (0, 1), got {value_range!r}")
    scale = uint8_to_signed_unit if tuple(value_range) == (-1, 1) else uint8_to_unit
    if data_dir is None or find_idx_files(data_dir, split) is not None:
        images = load_mnist(split, data_dir)[0]
        x = scale(images[:limit] if limit is not None else images)[:, None]
        if image_size is not None and x.shape[2:] != image_hw(image_size):
            x = resize(x, image_size)  # before the repeat: one channel's work, identical RGB channels
        return np.repeat(x, 3, axis=1) if channels == 3 else x
    folder = Path(data_dir) / split if (Path(data_dir) / split).is_dir() else Path(data_dir)
    try:
        return scale(load_image_folder(folder, image_size, channels, limit=limit))  # resized per image
    except DataError as e:
        raise DataError(
            f"{e}; a data directory holds MNIST-style IDX files ({split}-images-idx3-ubyte[.gz] "
            f"and its labels) or a folder of images"
        ) from e


def load_labels(data_dir=None, split: str = "train", limit=None) -> np.ndarray:
    """The int64 labels (N,) of the images ``load_dataset`` returns for the same arguments: MNIST-style IDX
    data only (bundled, or in data_dir); an image folder has none (DataError)."""
    if data_dir is not None and find_idx_files(data_dir, split) is None:
        raise DataError(
            f"{data_dir}: a conditional GAN needs labelled images, MNIST-style IDX files ({split}-images-idx3-ubyte"
            f"[.gz] and {split}-labels-idx1-ubyte[.gz]); an image folder has no labels"
        )
    labels = load_mnist(split, data_dir)[1]
    return (labels[:limit] if limit is not None else labels).astype(np.int64)
