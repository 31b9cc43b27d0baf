import os
from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.decode import decode_articles, decode_text, read_files
from transforms.discover import list_files


def test_utf8_with_bom_and_crlf():
    assert decode_text("\ufeffa\r\nb\rc".encode()) == ("a\nb\nc", "utf-8", None, None)


def test_cp1252_fallback_keeps_pound_sign():
    text, encoding, reason, _ = decode_text("Cost \u00a32m \u201cquoted\u201d".encode("cp1252"))
    assert (text, encoding, reason) == ("Cost \u00a32m \u201cquoted\u201d", "cp1252", None)


def test_binary_is_rejected():
    assert decode_text(b"\x00\x01PK\x03\x04")[2] == "binary"


def test_undecodable_bytes_are_rejected():
    # 0x81 and 0x8d are undefined in cp1252 and invalid as UTF-8 here.
    assert decode_text(b"abc \x81\x8d def")[2] == "undecodable"


def test_mojibake_is_rejected():
    text = "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 d\u00e9j\u00e0 vu".encode().decode("cp1252")
    assert decode_text(text.encode())[2] == "mojibake"


def test_read_and_decode_a_folder(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Hello\n")
    (tmp_path / "big.txt").write_text("x" * 100)
    (tmp_path / "bin.md").write_bytes(b"\x00\x00")
    (tmp_path / ".hidden.txt").write_text("skip me")
    (tmp_path / "notes.csv").write_text("skip me")
    listed = list_files(tmp_path, patterns=("*.txt", "*.md"))
    assert listed[S.REASON].null_count() == listed.height
    assert listed[S.PATH].to_list() == ["big.txt", "bin.md", "sub/a.txt"]
    out = decode_articles(read_files(listed, landing=tmp_path, max_file_bytes=50))
    rows = {r[S.PATH]: r for r in out.iter_rows(named=True)}
    assert rows["big.txt"][S.REASON] == "oversized" and rows["big.txt"][S.SHA256]
    assert rows["bin.md"][S.REASON] == "binary"
    assert rows["sub/a.txt"][S.TEXT] == "Hello\n" and rows["sub/a.txt"][S.REASON] is None
    assert out.filter(pl.col(S.REASON).is_null()).height == 1


def test_a_file_gone_before_reading_is_unreadable_not_fatal(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Hello\n")
    (tmp_path / "gone.txt").write_text("Bye\n")
    os.mkfifo(tmp_path / "pipe.txt")  # listed with a reason, never opened: reading would block
    (tmp_path / "dir.txt").mkdir()
    (tmp_path / "dir.txt" / "inner.txt").write_text("Inside\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret\n")
    (tmp_path / "link.txt").symlink_to(outside)
    (tmp_path / "inner-link.txt").symlink_to(tmp_path / "a.txt")
    listed = list_files(tmp_path, patterns=("*.txt",))
    (tmp_path / "gone.txt").unlink()
    out = decode_articles(read_files(listed, landing=tmp_path, max_file_bytes=100))
    reasons = dict(zip(out[S.PATH].to_list(), out[S.REASON].to_list(), strict=True))
    assert reasons == {
        "a.txt": None,
        "dir.txt": "not_a_file",
        "dir.txt/inner.txt": None,
        "gone.txt": "unreadable",
        "inner-link.txt": None,
        "link.txt": "outside_landing",
        "pipe.txt": "not_a_file",
    }
    assert out.filter(pl.col(S.PATH) == "link.txt")[S.SHA256][0] is None  # never opened
    assert "FileNotFoundError" in out.filter(pl.col(S.PATH) == "gone.txt")[S.DETAIL][0]
