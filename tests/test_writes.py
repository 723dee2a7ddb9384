"""Atomic writes never overwrite without force and never leave temp files."""

import os

import pytest

from drumfont.atomic import check_writable, write_atomic
from drumfont.errors import DrumfontError, FileExistsNoForce


def test_write_and_refuse(tmp_path):
    p = write_atomic(tmp_path / "sub" / "f.bin", b"one")
    assert p.read_bytes() == b"one"
    with pytest.raises(FileExistsNoForce, match="--force"):
        write_atomic(p, b"two")
    assert p.read_bytes() == b"one"
    write_atomic(p, b"two", force=True)
    assert p.read_bytes() == b"two"
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.bin"]


def test_folder_and_unwritable_targets(tmp_path):
    with pytest.raises(DrumfontError, match="folder"):
        check_writable(tmp_path, force=True)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DrumfontError, match="cannot write"):
        write_atomic(blocker / "inside.bin", b"x")


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import os

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(DrumfontError, match="disk full"):  # one line for the user, not a traceback
        write_atomic(tmp_path / "f.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_new_files_get_the_umask_mode_and_replacements_keep_theirs(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "a.bin", b"x")
        assert p.stat().st_mode & 0o777 == 0o644           # not mkstemp's private 0600
        p.chmod(0o600)
        write_atomic(p, b"y", force=True)
        assert p.stat().st_mode & 0o777 == 0o600           # a replaced file keeps its mode
    finally:
        os.umask(old)
