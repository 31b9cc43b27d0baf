"""Read and decode: file bytes -> article text, or a reason the file is set aside.

Decoding is strict UTF-8 first, then the declared fallback cp1252 (the usual encoding of
pre-Unicode newsroom exports); the encoding used is recorded. Bytes that are binary, or that
decode only to mis-decoded text (mojibake), are rejected with a reason code rather than loaded.
The decoded text drops a byte-order mark and turns CRLF/CR into LF; paragraph offsets are
character offsets into this text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl

from transforms import schema as S

CONTENT = "content"  # raw bytes column, only between reading and decoding
FALLBACK_ENCODING = "cp1252"

# C0 controls other than tab, LF, VT, FF and CR never occur in text articles.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
# UTF-8 lead/continuation pairs read as cp1252/latin-1: the signature of double-decoded text.
MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac|\u00c3\u00a9|\ufffd")
_MOJIBAKE_SHARE = 0.002  # flagged when such pairs exceed this share of characters (and >= 3)


def read_files(
    files: pl.DataFrame,
    *,
    landing: Path,
    max_file_bytes: int,
    before_read: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """Read each listed file once: PATH, SIZE, MTIME, REASON, DETAIL -> adds SHA256, CONTENT.

    The sha256 is computed from the bytes actually read, so a file that changed after listing
    is identified by what was loaded. Rows that arrive with a reason (not a file, a symlink out
    of the landing folder) are not opened. Unreadable files get a reason; oversized ones are
    hashed as a stream but not loaded. `before_read(path)` runs before each read and may raise
    OSError (the test suite uses it to simulate permission errors when running as root).
    """
    contents: list[bytes | None] = []
    digests: list[str | None] = []
    reasons: list[str | None] = []
    details: list[str | None] = []
    sizes: list[int] = []
    rows = zip(
        files[S.PATH].to_list(),
        files[S.SIZE].to_list(),
        files[S.REASON].to_list(),
        files[S.DETAIL].to_list(),
        strict=True,
    )
    # One read per file is the unit of I/O; nothing here loops over paragraphs.
    for rel, size, reason, detail in rows:
        data: bytes | None = None
        digest = None
        if reason is None:
            try:
                if before_read is not None:
                    before_read(rel)
                if size > max_file_bytes:
                    # Hashed as a stream, never loaded: the ledger still knows this exact version.
                    with open(landing / rel, "rb") as handle:
                        digest = hashlib.file_digest(handle, "sha256").hexdigest()
                    reason = "oversized"
                    detail = (
                        f"{size} bytes is over max_file_bytes={max_file_bytes}; "
                        "raise the setting or split the file"
                    )
                else:
                    data = (landing / rel).read_bytes()
                    digest = hashlib.sha256(data).hexdigest()
                    if not data:
                        # Set aside once: like any bytes already judged, a later empty file
                        # (a copy, a touch, another placeholder) is a duplicate of the first
                        # (discover.classify_files), so one quarantine row per version.
                        reason, detail = "empty", S.REASONS["empty"]
            except OSError as exc:
                reason = "unreadable"
                detail = f"{type(exc).__name__}: {exc.strerror or exc}; fix it, then release it"
        contents.append(data)
        digests.append(digest)
        sizes.append(len(data) if data is not None else size)
        reasons.append(reason)
        details.append(detail)
    return files.with_columns(
        pl.Series(S.SIZE, sizes, dtype=pl.Int64),
        pl.Series(S.SHA256, digests, dtype=pl.String),
        pl.Series(CONTENT, contents, dtype=pl.Binary),
        pl.Series(S.REASON, reasons, dtype=pl.String),
        pl.Series(S.DETAIL, details, dtype=pl.String),
    )


_BINARY_DETAIL = "holds NUL or control bytes; not a text article"
_MOJIBAKE_DETAIL = "{} mis-decoded character pairs (e.g. 'Ã©', 'â€'); re-export the file as UTF-8"


def decode_text(data: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """Bytes -> (text, encoding, reason, detail); exactly one of text / reason is set."""
    if _BINARY_BYTES.search(data):
        return None, None, "binary", _BINARY_DETAIL
    encoding = "utf-8"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode(FALLBACK_ENCODING)
            encoding = FALLBACK_ENCODING
        except UnicodeDecodeError:
            return (
                None,
                None,
                "undecodable",
                f"invalid UTF-8 at byte {exc.start} and not {FALLBACK_ENCODING} either",
            )
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    bad = len(MOJIBAKE.findall(text))
    if bad >= 3 and bad > _MOJIBAKE_SHARE * len(text):
        return (
            None,
            None,
            "mojibake",
            _MOJIBAKE_DETAIL.format(bad),
        )
    return text, encoding, None, None


def decode_articles(raw: pl.DataFrame) -> pl.DataFrame:
    """FILES + CONTENT (+ REASON) -> adds TEXT, ENCODING; REASON/DETAIL set where decoding fails.

    Rows that already carry a reason are passed through untouched. The codec runs once per file
    (the one loop); the checks and clean-ups of :func:`decode_text` then run as Polars
    expressions over the whole batch.
    """
    reasons = raw[S.REASON].to_list()
    details = raw[S.DETAIL].to_list()
    texts: list[str | None] = []
    encodings: list[str | None] = []
    for i, data in enumerate(raw[CONTENT].to_list()):
        text, encoding = None, None
        if reasons[i] is None and data is not None:
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                try:
                    text, encoding = data.decode(FALLBACK_ENCODING), FALLBACK_ENCODING
                except UnicodeDecodeError:
                    _, _, reasons[i], details[i] = decode_text(data)
        texts.append(text)
        encodings.append(encoding)
    text, bad = pl.col(S.TEXT), pl.col("_bad")
    found = (
        pl.when(pl.col("_binary"))
        .then(pl.lit("binary"))
        .when((bad >= 3) & (bad > _MOJIBAKE_SHARE * text.str.len_chars()))
        .then(pl.lit("mojibake"))
    )
    return (
        raw.drop(CONTENT)
        .with_columns(
            pl.Series(S.TEXT, texts, dtype=pl.String),
            pl.Series(S.ENCODING, encodings, dtype=pl.String),
            pl.Series(S.REASON, reasons, dtype=pl.String),
            pl.Series(S.DETAIL, details, dtype=pl.String),
        )
        .with_columns(text.str.strip_prefix("\ufeff").str.replace_all("\r\n?", "\n"))
        .with_columns(
            text.str.contains(_BINARY_BYTES.pattern.decode()).alias("_binary"),
            text.str.count_matches(MOJIBAKE.pattern).alias("_bad"),
        )
        .with_columns(found.alias("_found"))
        .with_columns(
            pl.coalesce(S.REASON, "_found").alias(S.REASON),
            pl.coalesce(
                S.DETAIL,
                pl.when(pl.col("_found") == "binary")
                .then(pl.lit(_BINARY_DETAIL))
                .when(pl.col("_found") == "mojibake")
                .then(pl.format(_MOJIBAKE_DETAIL, bad)),
            ).alias(S.DETAIL),
            pl.when(pl.col("_found").is_null()).then(text).alias(S.TEXT),
            pl.when(pl.col("_found").is_null()).then(pl.col(S.ENCODING)).alias(S.ENCODING),
        )
        .drop("_found", "_binary", "_bad")
    )
