"""Weight download (local HTTP server), checksum checks, lock file, offline errors."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring import weights as W
from repvideo_eval.scoring.checkpoints import load_state_file


@pytest.fixture()
def served(tmp_path):
    """A folder served over http://127.0.0.1:<port>/, plus a request log."""
    root = tmp_path / "served"
    root.mkdir()
    log: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            log.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", log
    server.shutdown()
    server.server_close()


def _payload() -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": torch.arange(6.0).reshape(2, 3)}, buffer)
    return buffer.getvalue()


def test_download_verifies_sha256_and_writes_atomically(served, tmp_path):
    root, base, log = served
    data = _payload()
    (root / "m.pth").write_bytes(data)
    spec = W.WeightFile(
        "m", "m_model/m.pth", f"{base}/m.pth", sha256=hashlib.sha256(data).hexdigest()
    )
    cache = tmp_path / "cache"
    path = W.download_weight(spec, cache, progress=False)
    assert path == cache / "m_model" / "m.pth" and path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.pth"]  # no temp files left
    assert torch.equal(load_state_file(path)["weight"], torch.arange(6.0).reshape(2, 3))


def test_checksum_mismatch_leaves_nothing(served, tmp_path):
    root, base, _ = served
    (root / "m.pth").write_bytes(_payload())
    spec = W.WeightFile("m", "m_model/m.pth", f"{base}/m.pth", sha256="0" * 64)
    with pytest.raises(UserError, match="sha256"):
        W.download_weight(spec, tmp_path / "cache", progress=False)
    assert list((tmp_path / "cache" / "m_model").iterdir()) == []


def test_unpublished_checksum_is_recorded_then_enforced(served, tmp_path, monkeypatch):
    root, base, log = served
    data = _payload()
    (root / "amt_model").mkdir()
    (root / "amt_model" / "amt-s.pth").write_bytes(data)
    monkeypatch.setenv(W.MIRROR_ENV, base)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cache = tmp_path / "cache"
    resolved = W.resolve("amt_s", mode="official", cache_dir=cache, progress=False)
    assert log == ["/amt_model/amt-s.pth"]
    lock = json.loads((cache / W.LOCK_FILE_NAME).read_text())
    assert lock["amt_model/amt-s.pth"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert lock["amt_model/amt-s.pth"]["checksum_source"] == "trust on first download"
    assert resolved.weights_id == f"vbench:amt-s.pth:sha256={hashlib.sha256(data).hexdigest()[:12]}"
    # A later change of the file is caught against the lock.
    resolved.path.write_bytes(data + b"tampered")
    with pytest.raises(UserError, match="recorded"):
        W.resolve("amt_s", mode="official", cache_dir=cache)
    # scoring_weights='local' uses the file as it is and reports its real hash.
    local = W.resolve("amt_s", mode="local", cache_dir=cache)
    assert local.sha256 == hashlib.sha256(data + b"tampered").hexdigest()


def test_zip_member_is_extracted(served, tmp_path, monkeypatch):
    root, base, _ = served
    data = _payload()
    with zipfile.ZipFile(root / "models.zip", "w") as archive:
        archive.writestr("models/raft-things.pth", data)
        archive.writestr("models/raft-small.pth", b"other")
    spec = W.WeightFile(
        "r",
        "raft_model/models/raft-things.pth",
        f"{base}/models.zip",
        sha256=hashlib.sha256(data).hexdigest(),
        archive_member="models/raft-things.pth",
    )
    path = W.download_weight(spec, tmp_path / "cache", progress=False)
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["raft-things.pth"]


def test_offline_missing_file_names_file_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as info:
        W.resolve("clip_vit_l14", mode="official", cache_dir=tmp_path)
    message = str(info.value)
    assert (
        "ViT-L-14.pt" in message
        and "repvideo-eval fetch-weights --dimensions aesthetic_quality" in message
    )
    assert "\n" not in message


def test_unreachable_server_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv(W.MIRROR_ENV, "http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(UserError, match="Cannot download"):
        W.resolve("musiq_spaq", mode="official", cache_dir=tmp_path, progress=False)
    assert not (tmp_path / "pyiqa_model" / "musiq_spaq_ckpt-358bb6af.pth").exists()


def test_published_checksum_mismatch_on_disk(tmp_path):
    path = tmp_path / "clip_model" / "ViT-B-32.pt"
    path.parent.mkdir()
    path.write_bytes(b"not the real file")
    with pytest.raises(UserError, match="expected 40d365715913c9da"):
        W.resolve("clip_vit_b32", mode="official", cache_dir=tmp_path)


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"obj": Path("x")}, path)  # an arbitrary Python object needs pickle code execution
    with pytest.raises(UserError, match="weights_only=True"):
        load_state_file(path)


def test_every_dimension_file_has_an_official_url_and_vbench_name():
    names = {spec.relpath for spec in W.WEIGHT_FILES.values()}
    assert (
        "pyiqa_model/musiq_spaq_ckpt-358bb6af.pth" in names
        and "raft_model/models/raft-things.pth" in names
    )
    for spec in W.WEIGHT_FILES.values():
        assert spec.url.startswith("https://")
    for files in W.DIMENSION_FILES.values():
        assert all(name in W.WEIGHT_FILES for name in files)
