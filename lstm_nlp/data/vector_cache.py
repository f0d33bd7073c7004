"""Standard word vectors by name: downloaded once into a cache folder, checked, then read from there.

``resolve_vectors("glove.6B.100d")`` returns the path of ``glove.6B.100d.txt`` in
``$LSTM_NLP_CACHE/vectors`` (default ``~/.cache/lstm_nlp/vectors``), downloading and unpacking the
archive the first time with a progress bar. A download goes to ``ARCHIVE.part`` and an
interrupted one is resumed with an HTTP ``Range`` request; the finished file must have the size
the server announced (and the SHA-256 of :data:`KNOWN_VECTORS` where one is pinned) before it is
renamed into place. Offline, the error says which file to put where. A value that is an existing
file is returned unchanged, so ``--vectors`` takes names and paths alike.

Known names (the archives' real addresses):

=====================  ==========================================================================
``glove.6B.50d``,       https://nlp.stanford.edu/data/glove.6B.zip (822 MB; Wikipedia 2014 +
``glove.6B.100d``, ...  Gigaword 5, 400k lower-cased words; one archive holds 50d/100d/200d/300d)
``crawl-300d-2M``       https://dl.fbaipublicfiles.com/fasttext/vectors-english/crawl-300d-2M.vec.zip
``wiki-news-300d-1M``   https://dl.fbaipublicfiles.com/fasttext/vectors-english/wiki-news-300d-1M.vec.zip
=====================  ==========================================================================

Neither project publishes checksums, so none is pinned for them: the size check catches truncated
downloads, and the SHA-256 of the archive is logged on first download for users who pin their own.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from lstm_nlp.errors import ConfigError, DataFormatError

logger = logging.getLogger("lstm_nlp")

CACHE_ENV = "LSTM_NLP_CACHE"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class VectorsSource:
    """Where a named set of vectors comes from.

    Attributes:
        url: The archive (``.zip``) or plain vectors file.
        member: The vectors file inside the zip archive (``None``: ``url`` is the file itself).
        sha256: Hex digest of the downloaded file, checked when given.
        size: Its size in bytes, checked when given (otherwise the server's announced size is).
    """

    url: str
    member: str | None = None
    sha256: str | None = None
    size: int | None = None

    @property
    def file_name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


_GLOVE_6B = "https://nlp.stanford.edu/data/glove.6B.zip"
_FASTTEXT = "https://dl.fbaipublicfiles.com/fasttext/vectors-english/"
#: Names that :func:`resolve_vectors` downloads.
KNOWN_VECTORS: dict[str, VectorsSource] = {
    **{f"glove.6B.{d}d": VectorsSource(_GLOVE_6B, member=f"glove.6B.{d}d.txt") for d in (50, 100, 200, 300)},
    "crawl-300d-2M": VectorsSource(_FASTTEXT + "crawl-300d-2M.vec.zip", member="crawl-300d-2M.vec"),
    "wiki-news-300d-1M": VectorsSource(_FASTTEXT + "wiki-news-300d-1M.vec.zip", member="wiki-news-300d-1M.vec"),
}


def cache_dir() -> Path:
    """``$LSTM_NLP_CACHE/vectors``, or ``~/.cache/lstm_nlp/vectors`` (not created here)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lstm_nlp").expanduser() / "vectors"


def resolve_vectors(name_or_path: str | os.PathLike, *, sources: dict[str, VectorsSource] | None = None,
                    progress: bool = True, timeout: float = 30.0) -> Path:
    """The vectors file for a path or a known name, downloading and unpacking it on first use.

    Args:
        name_or_path: An existing vectors file, or a key of ``sources`` (e.g. ``"glove.6B.100d"``).
        sources: Known names (default :data:`KNOWN_VECTORS`).
        progress: Show a download progress bar.
        timeout: Seconds to wait for the server before giving up.

    Returns:
        The path of the vectors text file (in the cache for a name).

    Raises:
        ConfigError: neither an existing file nor a known name; or the download failed (the
            message names the URL and where to put the file by hand).
        DataFormatError: the downloaded file has the wrong size or checksum, or the archive
            lacks the expected member.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    sources = KNOWN_VECTORS if sources is None else sources
    name = os.fspath(name_or_path)
    if name not in sources:
        raise ConfigError(f"--vectors {name}: no such file, and not a known name ({', '.join(sorted(sources))})")
    source = sources[name]
    folder = cache_dir()
    final = folder / (source.member or source.file_name)
    if final.is_file():
        return final
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / source.file_name
    if not archive.is_file():
        try:
            download(source.url, archive, sha256=source.sha256, size=source.size, progress=progress, timeout=timeout)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise ConfigError(f"could not download {name} from {source.url} ({reason}); without network, download "
                              f"it elsewhere and put {source.file_name}"
                              f"{f' (or the unpacked {source.member})' if source.member else ''} in {folder} "
                              f"(set {CACHE_ENV} to use another cache folder), or pass the file's path") from None
    if source.member is None:
        return archive
    _extract(archive, source.member, final)
    return final


def download(url: str, target: Path, *, sha256: str | None = None, size: int | None = None, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Downloads ``url`` to ``target`` via ``target.part``, resuming a partial ``.part`` with a Range request.

    Raises:
        urllib.error.URLError, http.client.HTTPException, OSError: network or disk errors (the ``.part``
            file is kept for a resume).
        DataFormatError: the finished file's size or SHA-256 is not the expected one (the
            ``.part`` file is removed, so the next try starts afresh).
    """
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not have:  # 416: nothing left to send; the .part may already be whole
            raise
        response, total = None, have
    if response is not None:
        with response:
            resumed = have and response.status == 206
            if have and not resumed:
                logger.info("%s does not support resuming; downloading it again", url)
                have = 0
            length = response.headers.get("Content-Length")
            total = int(length) + have if length is not None else size
            if resumed and "/" in response.headers.get("Content-Range", ""):
                announced = response.headers["Content-Range"].rsplit("/", 1)[1]
                total = int(announced) if announced.isdigit() else total
            if have:
                logger.info("resuming %s at %.1f MB", url, have / 2**20)
            with part.open("ab" if resumed else "wb") as out, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=f"downloading {target.name}", disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    got = part.stat().st_size
    expected = size if size is not None else total
    if expected is not None and got != expected:
        if got > expected:
            part.unlink()
        raise DataFormatError(f"downloaded {got:,} bytes of {url}, expected {expected:,}"
                              f"{' (run again to resume)' if got < expected else ''}", target)
    digest = _sha256(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink()
        raise DataFormatError(f"SHA-256 of {url} is {digest}, expected {sha256}; the download was removed", target)
    part.replace(target)
    logger.info("downloaded %s (%s bytes, sha256 %s)", target, f"{got:,}", digest)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _extract(archive: Path, member: str, final: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            if member not in zipped.namelist():
                raise DataFormatError(f"the archive has no {member} (it has {', '.join(zipped.namelist()[:8])})",
                                      archive)
            staging = final.with_name(final.name + ".unpacking")
            with zipped.open(member) as source, staging.open("wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
            staging.replace(final)
    except zipfile.BadZipFile as err:
        raise DataFormatError(f"not a readable zip archive ({err}); delete it to download it again", archive) from None
    logger.info("unpacked %s", final)
