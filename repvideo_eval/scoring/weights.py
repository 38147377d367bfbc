"""Weight files: VBench's cache layout and names, official URLs, checksums, download, lock file.

Files live in `$VBENCH_CACHE_DIR` (default `~/.cache/vbench`) under exactly the names vbench
uses, so a cache filled by VBench is reused as is and vice versa.

Checksums. Only some publishers give one:

* OpenAI CLIP: the sha256 is part of the download URL (full hash, enforced).
* MUSIQ (pyiqa release): the file name carries the first 8 hex of its sha256 (prefix enforced).
* RAFT raft-things.pth: a sha256 recorded by a third-party project (not by the RAFT authors),
  enforced; a mismatch tells the user how to override.
* DINO, AMT-S, LAION aesthetic head: no published checksum. The first file seen is hashed and
  recorded in `<cache>/repvideo_eval_weights.lock.json` (trust on first download); later loads
  must match the lock. This is stated in every such record's `weights_id` source and in docs.

Cache roots. Most files live in the vbench cache. The two models VBench-Long uses for its
slow-fast consistency with `--dev_flag` are cached where their own libraries put them, so their
existing downloads are reused: DINOv2 in torch hub's cache (`$TORCH_HOME/hub/checkpoints/`,
default `~/.cache/torch/hub/checkpoints/`), DreamSim in `~/.cache` (the `cache_dir` vbench passes
to `dreamsim()`: its zip is unpacked there, and the DINO backbone it loads through torch hub after
`torch.hub.set_dir(~/.cache)` lands in `~/.cache/checkpoints/`). Their lock entries go into the
vbench cache's lock file, keyed `<root>:<relpath>`.

Weight modes: "official" enforces the above; "local" uses whatever file sits under the official
name (its real sha256 still goes into `weights_id`); "tiny-random" needs no file at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.atomic import AtomicFile, write_json_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import LOCAL_WEIGHTS, OFFICIAL_WEIGHTS

logger = logging.getLogger(__name__)

LOCK_FILE_NAME = "repvideo_eval_weights.lock.json"
_DREAMSIM_ENSEMBLE_ZIP = "https://github.com/ssundaram21/dreamsim/releases/download/v0.2.0-checkpoints/dreamsim_ensemble_checkpoint.zip"
MIRROR_ENV = "REPVIDEO_EVAL_WEIGHTS_MIRROR"


@dataclass(frozen=True)
class WeightFile:
    """One checkpoint as VBench stores it, and where it comes from."""

    name: str
    relpath: str
    url: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    checksum_source: str = "none published: trust on first download (lock file)"
    #: When the URL is a zip archive: the member to extract to `relpath`.
    archive_member: str | None = None
    approx_size: str = ""
    #: Which cache `relpath` is relative to: "vbench", "torch_hub" or "dreamsim" (see module doc).
    root: str = "vbench"

    @property
    def lock_key(self) -> str:
        return self.relpath if self.root == "vbench" else f"{self.root}:{self.relpath}"


WEIGHT_FILES: dict[str, WeightFile] = {
    spec.name: spec
    for spec in (
        WeightFile(
            "dino_vitb16",
            "dino_model/dino_vitbase16_pretrain.pth",
            "https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/dino_vitbase16_pretrain.pth",
            approx_size="343 MB",
        ),
        WeightFile(
            "clip_vit_b32",
            "clip_model/ViT-B-32.pt",
            "https://openaipublic.azureedge.net/clip/models/"
            "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
            sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
            checksum_source="OpenAI (sha256 in the download URL)",
            approx_size="338 MB",
        ),
        WeightFile(
            "clip_vit_l14",
            "clip_model/ViT-L-14.pt",
            "https://openaipublic.azureedge.net/clip/models/"
            "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt",
            sha256="b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
            checksum_source="OpenAI (sha256 in the download URL)",
            approx_size="890 MB",
        ),
        WeightFile(
            "laion_aesthetic_head",
            "aesthetic_model/emb_reader/sa_0_4_vit_l_14_linear.pth",
            "https://github.com/LAION-AI/aesthetic-predictor/blob/main/sa_0_4_vit_l_14_linear.pth?raw=true",
            approx_size="3 KB",
        ),
        WeightFile(
            "amt_s",
            "amt_model/amt-s.pth",
            "https://huggingface.co/lalala125/AMT/resolve/main/amt-s.pth",
            approx_size="12 MB",
        ),
        WeightFile(
            "raft_things",
            "raft_model/models/raft-things.pth",
            "https://dl.dropboxusercontent.com/s/4j4z58wuv8o0mfz/models.zip",
            sha256="fcfa4125d6418f4de95d84aec20a3c5f4e205101715a79f193243c186ac9a7e1",
            checksum_source="recorded by a third-party project for princeton-vl's release (not by the RAFT authors)",
            archive_member="models/raft-things.pth",
            approx_size="21 MB (in an 81 MB zip)",
        ),
        WeightFile(
            "musiq_spaq",
            "pyiqa_model/musiq_spaq_ckpt-358bb6af.pth",
            "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/musiq_spaq_ckpt-358bb6af.pth",
            sha256_prefix="358bb6af",
            checksum_source="pyiqa release (first 8 hex of sha256 in the file name)",
            approx_size="104 MB",
        ),
        # VBench-Long --dev_flag slow-fast consistency ("fast" video models), see module doc.
        WeightFile(
            "dinov2_vitb14",
            "checkpoints/dinov2_vitb14_pretrain.pth",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
            approx_size="346 MB",
            root="torch_hub",
        ),
        WeightFile(
            "dreamsim_dino_vitb16",
            "checkpoints/dino_vitbase16_pretrain.pth",
            "https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/dino_vitbase16_pretrain.pth",
            approx_size="343 MB",
            root="dreamsim",
        ),
        *(
            WeightFile(
                name,
                member,
                _DREAMSIM_ENSEMBLE_ZIP,
                archive_member=member,
                approx_size="in the DreamSim ensemble zip",
                root="dreamsim",
            )
            for name, member in (
                ("dreamsim_clip_vitb16", "clip_vitb16_pretrain.pth.tar"),
                ("dreamsim_open_clip_vitb16", "open_clip_vitb16_pretrain.pth.tar"),
                ("dreamsim_ensemble_lora_config", "ensemble_lora/adapter_config.json"),
                ("dreamsim_ensemble_lora", "ensemble_lora/adapter_model.safetensors"),
            )
        ),
    )
}

#: Files of the VBench-Long `--dev_flag` fast-video models, per dimension. Only
#: `LongModeSession(consistency="slow-fast")` opens them, so they are fetched only on request
#: (`fetch-weights --slow-fast`), not with every subject/background_consistency prefetch.
SLOW_FAST_FILES: dict[str, tuple[str, ...]] = {
    "subject_consistency": ("dinov2_vitb14",),
    "background_consistency": (
        "dreamsim_dino_vitb16",
        "dreamsim_clip_vitb16",
        "dreamsim_open_clip_vitb16",
        "dreamsim_ensemble_lora_config",
        "dreamsim_ensemble_lora",
    ),
}

#: Which files each dimension needs (empty for model-free dimensions).
DIMENSION_FILES: dict[str, tuple[str, ...]] = {
    "subject_consistency": ("dino_vitb16",),
    "background_consistency": ("clip_vit_b32",),
    "temporal_flickering": (),
    "motion_smoothness": ("amt_s",),
    "dynamic_degree": ("raft_things",),
    "aesthetic_quality": ("clip_vit_l14", "laion_aesthetic_head"),
    "imaging_quality": ("musiq_spaq",),
}


@dataclass(frozen=True)
class ResolvedWeight:
    """A weight file on disk with its sha256 and the id that goes into every record."""

    spec: WeightFile
    path: Path
    sha256: str

    @property
    def weights_id(self) -> str:
        prefix = "vbench" if self.spec.root == "vbench" else self.spec.root
        return f"{prefix}:{Path(self.spec.relpath).name}:sha256={self.sha256[:12]}"


def default_cache_dir(cache_dir: Path | None = None) -> Path:
    """`cache_dir`, else $VBENCH_CACHE_DIR, else ~/.cache/vbench (vbench's own rule)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("VBENCH_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vbench"


def root_dir(spec: WeightFile, cache_dir: Path | None = None) -> Path:
    """The folder `spec.relpath` is relative to (`cache_dir` only moves the vbench root)."""
    if spec.root == "vbench":
        return default_cache_dir(cache_dir)
    if spec.root == "torch_hub":  # torch.hub.get_dir() without set_dir: $TORCH_HOME/hub
        torch_home = os.environ.get("TORCH_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch"
        )
        return Path(torch_home).expanduser() / "hub"
    if (
        spec.root == "dreamsim"
    ):  # vbench2_beta_long: dreamsim(cache_dir=os.path.expanduser("~/.cache"))
        return Path("~/.cache").expanduser()
    raise ValueError(f"unknown weight root {spec.root!r}")


def weight_path(name: str, cache_dir: Path | None = None) -> Path:
    """Where weight `name` lives on disk (whether or not it is there)."""
    spec = WEIGHT_FILES[name]
    return root_dir(spec, cache_dir) / spec.relpath


def is_offline() -> bool:
    """True when the user asked for no network (HF_HUB_OFFLINE=1, the convention of the HF stack)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def fetch_command(dimensions: Iterable[str], slow_fast: bool = False) -> str:
    """The CLI command that prefetches the files of `dimensions` (quoted in error messages)."""
    return f"repvideo-eval fetch-weights --dimensions {','.join(dimensions)}" + (
        " --slow-fast" if slow_fast else ""
    )


_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """sha256 of a file, memoised per (path, size, mtime) so a session hashes each file once."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _HASH_MEMO:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _HASH_MEMO[memo_key] = digest.hexdigest()
    return _HASH_MEMO[memo_key]


def _read_lock(cache: Path) -> dict[str, dict]:
    lock_path = cache / LOCK_FILE_NAME
    if not lock_path.is_file():
        return {}
    try:
        return json.loads(lock_path.read_text())
    except (OSError, json.JSONDecodeError):
        raise UserError(
            f"Weights lock file {lock_path} is unreadable.", "Delete it; it is rebuilt on next use."
        ) from None


@contextlib.contextmanager
def _cache_locked(cache: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache folder, so that two processes recording different
    files in the lock file at once cannot drop each other's entry."""
    cache.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_lock_entry(cache: Path, spec: WeightFile, sha256: str) -> None:
    with _cache_locked(cache):
        entries = _read_lock(cache)
        entries[spec.lock_key] = {
            "sha256": sha256,
            "url": spec.url,
            "recorded_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "checksum_source": "trust on first download",
        }
        write_json_atomic(entries, cache / LOCK_FILE_NAME)


def verify(spec: WeightFile, path: Path, cache: Path, dimension_hint: Iterable[str] = ()) -> str:
    """Hash `path` and check it against the published checksum or the lock; return the sha256."""
    actual = sha256_file(path)
    fix = (
        f"Delete {path} and run `{fetch_command(dimension_hint) if dimension_hint else _fetch_command_for(spec)}`, "
        f"or score with scoring_weights='{LOCAL_WEIGHTS}' (--scoring-weights {LOCAL_WEIGHTS}) to use this file as it is"
    )
    if spec.sha256 is not None and actual != spec.sha256:
        raise UserError(
            f"{path} has sha256 {actual[:16]}..., expected {spec.sha256[:16]}... ({spec.checksum_source}).",
            fix,
        )
    if spec.sha256_prefix is not None and not actual.startswith(spec.sha256_prefix):
        raise UserError(
            f"{path} has sha256 {actual[:16]}..., expected it to start with {spec.sha256_prefix}.",
            fix,
        )
    if spec.sha256 is None:
        locked = _read_lock(cache).get(spec.lock_key)
        if locked is None:
            logger.warning(
                "No published checksum for %s; recording sha256 %s (trust on first use).",
                path.name,
                actual,
            )
            _write_lock_entry(cache, spec, actual)
        elif locked["sha256"] != actual:
            raise UserError(
                f"{path} has sha256 {actual[:16]}..., but {LOCK_FILE_NAME} recorded {locked['sha256'][:16]}... on first download.",
                fix,
            )
    return actual


def _fetch_command_for(spec: WeightFile) -> str:
    """fetch-weights for the dimension(s) that use `spec` (with --slow-fast for those files)."""
    slow_fast = [d for d, names in SLOW_FAST_FILES.items() if spec.name in names]
    if slow_fast:
        return fetch_command(slow_fast, slow_fast=True)
    return fetch_command(d for d, names in DIMENSION_FILES.items() if spec.name in names)


def resolve(
    name: str,
    *,
    mode: str,
    cache_dir: Path | None = None,
    download: bool = True,
    progress: bool = True,
) -> ResolvedWeight:
    """The verified local file for weight `name`, downloading it first when missing and allowed.

    mode "official" verifies checksums (see module doc); "local" only hashes the file.
    Missing file + offline (HF_HUB_OFFLINE=1) or no network: UserError naming the file and the
    fetch-weights command.
    """
    spec = WEIGHT_FILES[name]
    cache = default_cache_dir(cache_dir)
    path = root_dir(spec, cache_dir) / spec.relpath
    if not path.is_file():
        if mode == LOCAL_WEIGHTS:
            raise UserError(
                f"Weight file {path} is missing (scoring_weights='{LOCAL_WEIGHTS}' uses existing files only).",
                f"Run `{_fetch_command_for(spec)}`.",
            )
        if is_offline() or not download:
            raise UserError(
                f"Weight file {path} is missing and downloads are disabled (HF_HUB_OFFLINE=1).",
                f"Run `{_fetch_command_for(spec)}` on a machine with network access, or copy the file there.",
            )
        download_weight(spec, cache, progress=progress, target=path)
    sha = sha256_file(path) if mode == LOCAL_WEIGHTS else verify(spec, path, cache)
    return ResolvedWeight(spec, path, sha)


def source_url(spec: WeightFile) -> str:
    """The official URL, or `$REPVIDEO_EVAL_WEIGHTS_MIRROR/<relpath or zip name>` when set."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return spec.url
    tail = Path(spec.url.split("?")[0]).name if spec.archive_member else spec.relpath
    return f"{mirror.rstrip('/')}/{tail}"


def download_weight(
    spec: WeightFile,
    cache: Path,
    *,
    progress: bool = True,
    timeout: float = 60.0,
    target: Path | None = None,
) -> Path:
    """Download `spec` into the cache with urllib, verify it, and move it into place atomically.

    `cache` holds the lock file; `target` defaults to `cache / relpath` (vbench root). For an
    archive, the other registered members of the same archive that are missing are extracted
    too (one download for the DreamSim zip).
    """
    target = target if target is not None else cache / spec.relpath
    url = source_url(spec)
    download = AtomicFile(target)  # a unique temp name: concurrent fetches of one file both work
    try:
        with download.temp.open("wb") as handle:
            _stream(url, handle, desc=target.name, progress=progress, timeout=timeout)
        if spec.archive_member is not None:
            extracted = AtomicFile(target)
            try:
                with (
                    zipfile.ZipFile(download.temp) as archive,
                    archive.open(spec.archive_member) as src,
                    extracted.temp.open("wb") as dst,
                ):
                    shutil.copyfileobj(src, dst, 1 << 22)
                _extract_siblings(spec, download.temp, target, cache)
            except (zipfile.BadZipFile, KeyError) as exc:
                extracted.discard()
                raise UserError(
                    f"Downloaded archive from {url} is not a zip holding {spec.archive_member} ({exc}).",
                    "Retry later, or fetch it by hand into the cache.",
                ) from None
            except BaseException:
                extracted.discard()
                raise
            download.discard()
            download = extracted
        actual = sha256_file(download.temp)
        if spec.sha256 is not None and actual != spec.sha256:
            raise UserError(
                f"Download of {spec.relpath} from {url} has sha256 {actual[:16]}..., expected {spec.sha256[:16]}....",
                "Retry; if it persists the upstream file changed, report it.",
            )
        if spec.sha256_prefix is not None and not actual.startswith(spec.sha256_prefix):
            raise UserError(
                f"Download of {spec.relpath} from {url} has sha256 {actual[:16]}..., expected prefix {spec.sha256_prefix}.",
                "Retry; if it persists the upstream file changed, report it.",
            )
        download.commit()
        if spec.sha256 is None:
            _write_lock_entry(cache, spec, actual)
        logger.info("Downloaded %s (sha256 %s)", target, actual)
        return target
    finally:
        download.discard()


def _extract_siblings(spec: WeightFile, archive_path: Path, target: Path, cache: Path) -> None:
    """Extract the other missing registry members of `spec`'s archive (same URL, same root)."""
    base = target.parent
    for _ in Path(spec.relpath).parts[:-1]:
        base = base.parent
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
        for other in WEIGHT_FILES.values():
            other_target = base / other.relpath
            if (
                other is spec
                or other.url != spec.url
                or other.root != spec.root
                or other.archive_member not in names
                or other_target.is_file()
            ):
                continue
            with AtomicFile(other_target) as part:
                with archive.open(other.archive_member) as src, part.temp.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
            if other.sha256 is None and other.sha256_prefix is None:
                _write_lock_entry(cache, other, sha256_file(other_target))


def _stream(url: str, handle, *, desc: str, progress: bool, timeout: float) -> None:
    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "repvideo-eval"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=desc, disable=not progress
            ) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    handle.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"Cannot download {desc} from {url} ({reason}).",
            "Check the network, set HF_HUB_OFFLINE=1 to fail fast, or copy the file into the cache "
            f"(or set {MIRROR_ENV} to a reachable mirror)",
        ) from None


def fetch_for_dimensions(
    dimensions: Iterable[str],
    *,
    cache_dir: Path | None = None,
    progress: bool = True,
    slow_fast: bool = False,
) -> list[ResolvedWeight]:
    """Download (if missing) and verify every file the given dimensions need.

    slow_fast: also the VBench-Long `--dev_flag` fast-video models of those dimensions.
    """
    dimensions = list(dimensions)
    tables = (DIMENSION_FILES, SLOW_FAST_FILES) if slow_fast else (DIMENSION_FILES,)
    names = list(dict.fromkeys(n for table in tables for d in dimensions for n in table.get(d, ())))
    return [
        resolve(n, mode=OFFICIAL_WEIGHTS, cache_dir=cache_dir, progress=progress) for n in names
    ]
