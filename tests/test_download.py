"""Resumable, checksum-verified downloads, against a local HTTP server (nothing leaves the machine)."""

from __future__ import annotations

import hashlib

import pytest
from http_helpers import serve

from drumfont.drums.download import fetch
from drumfont.errors import DrumfontError

PAYLOAD = bytes(range(256)) * 400  # 100 kB, more than one read chunk
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_fetch_verifies_and_caches(tmp_path):
    dest = tmp_path / "cache" / "a.zip"
    with serve(PAYLOAD) as (url, srv):
        assert fetch(url, dest, SHA, len(PAYLOAD)).read_bytes() == PAYLOAD
        assert fetch(url, dest, SHA, len(PAYLOAD)) == dest  # verified copy: no second request
        assert srv.ranges == [None]
    assert not dest.with_name("a.zip.part").exists()


def test_dropped_connection_resumes_with_range(tmp_path):
    dest = tmp_path / "a.zip"
    part = tmp_path / "a.zip.part"
    with serve(PAYLOAD, drops=1) as (url, srv):
        with pytest.raises(DrumfontError, match="interrupted after 34133 .*run again to resume"):
            fetch(url, dest, SHA)
        assert part.stat().st_size == len(PAYLOAD) // 3 and not dest.exists()
        assert fetch(url, dest, SHA).read_bytes() == PAYLOAD
        assert srv.ranges == [None, f"bytes={len(PAYLOAD) // 3}-"]  # asked only for the rest
    assert not part.exists()


def test_server_ignoring_range_starts_over(tmp_path):
    dest = tmp_path / "a.zip"
    (tmp_path / "a.zip.part").write_bytes(PAYLOAD[:1000])
    with serve(PAYLOAD, honour_range=False) as (url, srv):
        assert fetch(url, dest, SHA, len(PAYLOAD)).read_bytes() == PAYLOAD
        assert srv.ranges == ["bytes=1000-"]


def test_bad_checksum_is_one_error_and_leaves_nothing(tmp_path):
    dest = tmp_path / "a.zip"
    with serve(PAYLOAD) as (url, _):
        with pytest.raises(DrumfontError, match=f"expected {'0' * 64}.*deleted it"):
            fetch(url, dest, "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cached_copy_is_fetched_again(tmp_path):
    dest = tmp_path / "a.zip"
    dest.write_bytes(b"not the archive")
    with serve(PAYLOAD) as (url, srv):
        assert fetch(url, dest, SHA).read_bytes() == PAYLOAD
        assert srv.ranges == [None]


def test_unreachable_server_is_one_error(tmp_path):
    with serve(PAYLOAD) as (url, _):
        pass  # closed: nothing listens on the port any more
    with pytest.raises(DrumfontError, match="cannot download"):
        fetch(url, tmp_path / "a.zip", SHA)
