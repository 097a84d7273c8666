"""Turn "a local folder or a Hub repo id" plus a file name into a local path.

Everything that reads a checkpoint file goes through :func:`resolve_file`, so
local folders, single json files and Hub repositories behave the same way for
configs, weights, tokenizers and processors.  huggingface_hub is imported only
when a repo id actually has to be fetched.

Hub files land in huggingface_hub's standard cache (``HF_HOME``/``HF_HUB_CACHE``
or ``cache_dir``), written to a temporary name and moved into place only when
complete, so an interrupted download never leaves a file that looks usable.
``HF_HUB_OFFLINE=1`` or ``local_files_only=True`` read the cache only.  Every
failure -- unknown repo, revision or file, refused access, a server error, a
connection that could not be made or broke mid-download -- becomes a
:class:`~autoload.errors.FileResolutionError` that says what happened and what
to do about it.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoload.errors import FileResolutionError


@dataclass(frozen=True)
class HubOptions:
    """The download options every ``from_pretrained`` accepts, gathered once."""

    revision: str | None = None
    cache_dir: str | os.PathLike[str] | None = None
    token: str | bool | None = None
    local_files_only: bool = False
    force_download: bool = False
    subfolder: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    _FIELDS = ("revision", "cache_dir", "token", "local_files_only", "force_download", "subfolder")

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> HubOptions:
        """Remove the hub options from ``kwargs`` (in place) and return them."""
        values = {name: kwargs.pop(name) for name in cls._FIELDS if name in kwargs}
        if values.get("subfolder") is None:
            values.pop("subfolder", None)
        # transformers' older spelling
        if "use_auth_token" in kwargs and "token" not in values:
            values["token"] = kwargs.pop("use_auth_token")
        for obsolete in ("resume_download", "proxies", "trust_remote_code", "_from_auto", "_from_pipeline"):
            kwargs.pop(obsolete, None)
        return cls(**values)

    def as_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}


def is_local(path_or_repo: str | os.PathLike[str]) -> bool:
    return os.path.isdir(path_or_repo) or os.path.isfile(path_or_repo)


def describe(path_or_repo: str | os.PathLike[str], options: HubOptions | None = None) -> str:
    where = os.fspath(path_or_repo)
    if options is not None and options.subfolder:
        where = f"{where}/{options.subfolder}"
    return where


def resolve_file(
    path_or_repo: str | os.PathLike[str],
    filename: str,
    options: HubOptions | None = None,
    *,
    required: bool = True,
) -> str | None:
    """Return a local path to ``filename`` of the checkpoint, or ``None``.

    ``path_or_repo`` may be a folder, or a Hub repo id.  A missing file is
    ``None`` when ``required`` is false; every other failure (network, auth,
    unknown repo or revision) is a :class:`FileResolutionError` regardless,
    because silently treating "could not ask" as "absent" would make a
    checkpoint load with the wrong tokenizer or processor.
    """
    options = options or HubOptions()
    source = os.fspath(path_or_repo)
    if os.path.isdir(source):
        candidate = Path(source, options.subfolder, filename) if options.subfolder else Path(source, filename)
        if candidate.is_file():
            _check_links_stay_inside(source, candidate)
            return str(candidate)
        if required:
            raise FileResolutionError(
                f"{describe(source, options)} has no file {filename!r}. "
                "Check the folder is a complete checkpoint (saved with save_pretrained)."
            )
        return None
    if os.path.isfile(source):
        raise FileResolutionError(
            f"{source!r} is a file, but {filename!r} has to be read from a checkpoint folder; pass the folder instead."
        )
    return _resolve_from_hub(source, filename, options, required=required)


#: Set to 1 to follow symlinks that leave a checkpoint folder (see :func:`_check_links_stay_inside`).
ALLOW_EXTERNAL_SYMLINKS_ENV = "AUTOLOAD_ALLOW_EXTERNAL_SYMLINKS"
_HUB_REPO_FOLDER = re.compile(r"^(models|datasets|spaces)--.+")


def _check_links_stay_inside(folder: str, path: Path) -> None:
    """Refuse a checkpoint file that is a symlink out of its folder, except into the Hub cache's blob store.

    A folder from an archive or a shared drive can hold ``vocab.txt -> ~/.ssh/id_rsa``; following it
    would read a private file as checkpoint data (and a tokenizer saved later would copy it).  Links
    whose target stays inside the folder are fine, and so are the Hub cache's own links, from
    ``<cache>/models--org--name/snapshots/<rev>/`` into ``<cache>/models--org--name/blobs/``.
    ``AUTOLOAD_ALLOW_EXTERNAL_SYMLINKS=1`` follows every link (the folder is then trusted whole).
    The folder passed by the caller is trusted as given, even when it is itself a link.
    """
    if not os.path.islink(path) and os.path.realpath(path.parent) == os.path.realpath(folder):
        return  # the common case: a plain file directly in the folder
    root = os.path.realpath(folder)
    target = os.path.realpath(path)
    if _is_within(target, root) or _is_within_hub_blobs(root, target):
        return
    if os.environ.get(ALLOW_EXTERNAL_SYMLINKS_ENV) == "1":
        return
    raise FileResolutionError(
        f"{path} is a symlink to {target}, outside the checkpoint folder {folder}. autoload follows links only "
        "within the checkpoint folder or into the Hub cache's blob store, so that a checkpoint cannot make it "
        f"read other files. Copy the file into the folder (cp -L), or set {ALLOW_EXTERNAL_SYMLINKS_ENV}=1 if you "
        "trust where the links point."
    )


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _is_within_hub_blobs(root: str, target: str) -> bool:
    """Whether ``root`` lies in a Hub cache snapshot and ``target`` in the same repository's blob folder."""
    parts = Path(root).parts
    for index in range(len(parts) - 1, 0, -1):
        if parts[index] == "snapshots" and _HUB_REPO_FOLDER.match(parts[index - 1]):
            blobs = os.path.join(*parts[:index], "blobs")
            return _is_within(target, blobs)
    return False


def _looks_like_repo_id(text: str) -> bool:
    parts = text.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not text.startswith((".", "~")) and "\\" not in text


# -- Hub repositories ------------------------------------------------------------------------------

_COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
_DEFAULT_ENDPOINT = "https://huggingface.co"

# (endpoint, cache folder, repo id, revision asked for) -> the commit it resolved to in this process
_pinned_revisions: dict[tuple[str, str, str, str], str] = {}
_pinned_lock = threading.Lock()


def _forget_pinned_revisions() -> None:
    """Let the next resolution of every branch or tag ask the Hub again (tests, long-lived processes)."""
    with _pinned_lock:
        _pinned_revisions.clear()


def _resolve_from_hub(repo_id: str, filename: str, options: HubOptions, *, required: bool) -> str | None:
    """Fetch ``filename`` of ``repo_id`` into the standard cache (or find it there).

    A branch or tag is resolved to a commit the first time a file of the repo
    is asked for in this process; later files of the same repo and revision
    are read from that commit.  So a checkpoint never mixes files of two
    pushes, and loading it again in the same process answers from the cache
    without a request.  A new process, or ``force_download=True``, asks again.
    """
    if not _looks_like_repo_id(repo_id):
        raise FileResolutionError(
            f"{repo_id!r} is neither an existing local folder nor a Hub repo id ('name' or 'org/name')."
        )
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.file_download import _CACHED_NO_EXIST

    repo_path = _repo_path(filename, options)
    key = _pin_key(repo_id, options)
    pinned = None
    if not options.force_download and not _COMMIT_HASH.fullmatch(options.revision or ""):
        with _pinned_lock:
            pinned = _pinned_revisions.get(key)
    if pinned is not None:
        cached = try_to_load_from_cache(repo_id, repo_path, cache_dir=options.cache_dir, revision=pinned)
        if isinstance(cached, str):
            return cached
        if cached is _CACHED_NO_EXIST and not required:
            return None
        try:
            return _download(repo_id, filename, options, pinned, required=required)
        except hub_errors.RevisionNotFoundError:
            # the commit is gone (history rewritten): forget it and ask for what the caller asked for
            with _pinned_lock:
                _pinned_revisions.pop(key, None)
    path = _download(repo_id, filename, options, options.revision, required=required)
    commit = _commit_of(path, repo_path) if path is not None else None
    if commit is not None and commit != options.revision:
        with _pinned_lock:
            _pinned_revisions[key] = commit
    return path


def _download(repo_id: str, filename: str, options: HubOptions, revision: str | None, *, required: bool) -> str | None:
    """hf_hub_download, with its failures turned into FileResolutionErrors that say what to do.

    ``revision`` differs from ``options.revision`` when it is a commit pinned by
    this process; a RevisionNotFoundError for it is let through so that the
    caller can fall back to the revision it was given.
    """
    import huggingface_hub
    from huggingface_hub import errors as hub_errors

    offline = _hub_is_offline()
    try:
        return huggingface_hub.hf_hub_download(
            repo_id,
            filename,
            subfolder=options.subfolder or None,
            revision=revision,
            cache_dir=options.cache_dir,
            token=options.token,
            local_files_only=options.local_files_only or offline,
            force_download=options.force_download,
            library_name="autoload",
        )
    except hub_errors.RevisionNotFoundError as exc:
        if revision != options.revision:
            raise
        raise FileResolutionError(
            f"Revision {options.revision!r} does not exist in {repo_id} on {_hub_name()}. "
            "Pass an existing branch, tag or commit hash."
        ) from exc
    except Exception as exc:
        if not required and _is_known_absent(exc, repo_id, filename, options, revision):
            return None
        _raise_clear_error(exc, repo_id, filename, options, offline=offline)
        raise  # not a failure autoload can explain better: let it through unchanged


def _is_known_absent(exc: Exception, repo_id: str, filename: str, options: HubOptions, revision: str | None) -> bool:
    """The Hub said the file does not exist, now or (recorded in the cache) when it was last asked."""
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.file_download import _CACHED_NO_EXIST

    if isinstance(exc, hub_errors.LocalEntryNotFoundError):
        found = try_to_load_from_cache(
            repo_id, _repo_path(filename, options), cache_dir=options.cache_dir, revision=revision
        )
        return found is _CACHED_NO_EXIST
    return isinstance(exc, hub_errors.EntryNotFoundError)


def _raise_clear_error(exc: Exception, repo_id: str, filename: str, options: HubOptions, *, offline: bool) -> None:
    """Raise a FileResolutionError that says what went wrong and what to do; return if ``exc`` is not ours."""
    from huggingface_hub import errors as hub_errors

    where = f"{filename!r} of {repo_id}" + (f" (subfolder {options.subfolder!r})" if options.subfolder else "")
    hub = _hub_name()
    if isinstance(exc, hub_errors.GatedRepoError):
        if _status_of(exc) == 403:
            raise FileResolutionError(
                f"{repo_id} is gated and the token used has no access to it, so {filename!r} was refused. "
                f"Accept its conditions (or ask for access) at {_repo_url(repo_id)}, then retry."
            ) from exc
        raise FileResolutionError(
            f"{repo_id} is gated: {filename!r} can only be downloaded by a logged-in user who accepted its "
            f"conditions at {_repo_url(repo_id)}. Log in (`hf auth login`) or pass token=..."
        ) from exc
    if isinstance(exc, hub_errors.RepositoryNotFoundError):
        hint = "" if options.token else " If it is private, log in (`hf auth login`) or pass token=..."
        raise FileResolutionError(
            f"Repository {repo_id!r} was not found on {hub} (or it is private and the token used cannot read it). "
            f"Check the spelling, or pass a local folder.{hint}"
        ) from exc
    if isinstance(exc, hub_errors.EntryNotFoundError) and not isinstance(exc, hub_errors.LocalEntryNotFoundError):
        raise FileResolutionError(
            f"{repo_id} has no file {_repo_path(filename, options)!r} at revision {options.revision or 'main'}."
        ) from exc
    if isinstance(exc, hub_errors.LocalEntryNotFoundError):
        cause = _root_cause(exc)
        if offline or options.local_files_only or isinstance(cause, _hub_error("OfflineModeIsEnabled")):
            why = "local_files_only=True" if options.local_files_only else "HF_HUB_OFFLINE=1"
            raise FileResolutionError(
                f"{where} is not in the local cache and downloads are off ({why}). "
                "Download it once while online, or pass a local folder."
            ) from exc
        if cause is not exc:
            _raise_clear_error(cause, repo_id, filename, options, offline=offline)
        raise FileResolutionError(
            f"Could not locate {where} on {hub}, and it is not in the local cache: {exc}"
        ) from exc
    if isinstance(exc, hub_errors.HfHubHTTPError):
        raise FileResolutionError(_http_error_message(exc, where, repo_id)) from exc
    if isinstance(exc, _hub_error("FileMetadataError")):
        raise FileResolutionError(
            f"{_hub_name(capital=True)} answered for {where} without the headers every Hub file has ({exc}). "
            "Check HF_ENDPOINT and any proxy between you and the Hub."
        ) from exc
    if _is_connect_error(exc):
        raise FileResolutionError(
            f"Could not reach {hub} to fetch {where}: {type(exc).__name__}: {exc}. Check the network (and "
            "HF_ENDPOINT); set HF_HUB_OFFLINE=1 to use cached files only, or pass a local folder."
        ) from exc
    if isinstance(exc, _transport_errors()) or (isinstance(exc, OSError) and "Consistency check" in str(exc)):
        raise FileResolutionError(
            f"The download of {where} from {hub} was interrupted ({type(exc).__name__}: {exc}). "
            "No part of it was kept as a usable file in the cache; try again."
        ) from exc
    if isinstance(exc, (OSError, ValueError)):
        raise FileResolutionError(f"Could not fetch {where} from {hub}: {exc}") from exc


def _http_error_message(exc: Exception, where: str, repo_id: str) -> str:
    status = _status_of(exc)
    hub = _hub_name(capital=True)
    said = getattr(exc, "server_message", None)
    said = said.strip() if isinstance(said, str) else ""
    if said:
        said = f" The server said: {said}" + ("" if said.endswith((".", "!", "?")) else ".")
    if status == 401:
        return (
            f"{hub} refused {where} (HTTP 401: not authenticated).{said} "
            "If the repo is private or gated, log in (`hf auth login`) or pass token=..."
        )
    if status == 403:
        return (
            f"{hub} refused {where} (HTTP 403: forbidden).{said} The token used has no access to {repo_id}: "
            f"check its permissions, or request access at {_repo_url(repo_id)}."
        )
    if status == 429:
        return f"{hub} is rate-limiting requests (HTTP 429) for {where}.{said} Wait a moment and try again."
    if status is not None and status >= 500:
        return (
            f"{hub} failed with a server error (HTTP {status}) for {where}, and there is no cached copy.{said} "
            "Try again later, set HF_HUB_OFFLINE=1 to use cached files, or pass a local folder."
        )
    return f"{hub} answered HTTP {status} for {where}.{said} Retry later, or pass a local folder."


class _NeverRaised(Exception):
    """Stands for an error class that the installed huggingface_hub does not have."""


def _hub_error(name: str) -> type[BaseException]:
    from huggingface_hub import errors as hub_errors

    found = getattr(hub_errors, name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else _NeverRaised


def _status_of(exc: BaseException) -> int | None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _root_cause(exc: BaseException) -> BaseException:
    """The first chained exception that is not another "could not find it locally" wrapper."""
    from huggingface_hub import errors as hub_errors

    seen = {id(exc)}
    current: BaseException = exc
    while isinstance(current, hub_errors.LocalEntryNotFoundError):
        nxt = current.__cause__ or current.__context__
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        current = nxt
    return current


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The network error classes of whichever HTTP library this huggingface_hub uses (already imported)."""
    found: list[type[BaseException]] = []
    for module_name, name in (("httpx2", "RequestError"), ("httpx", "RequestError"), ("requests", "RequestException")):
        candidate = getattr(sys.modules.get(module_name), name, None)
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            found.append(candidate)
    return tuple(found)


def _is_connect_error(exc: BaseException) -> bool:
    """No connection could be opened at all (as opposed to one that broke mid-download)."""
    if isinstance(exc, ConnectionRefusedError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return isinstance(exc, _transport_errors()) and bool(names & {"ConnectError", "ConnectTimeout", "ConnectionError"})


def _hub_is_offline() -> bool:
    from huggingface_hub import constants

    is_offline = getattr(constants, "is_offline_mode", None)
    return bool(is_offline() if callable(is_offline) else getattr(constants, "HF_HUB_OFFLINE", False))


def _hub_name(*, capital: bool = False) -> str:
    from huggingface_hub import constants

    endpoint = getattr(constants, "ENDPOINT", _DEFAULT_ENDPOINT)
    name = "the Hub" if endpoint == _DEFAULT_ENDPOINT else f"the Hub at {endpoint}"
    return name[0].upper() + name[1:] if capital else name


def _repo_url(repo_id: str) -> str:
    from huggingface_hub import constants

    return f"{getattr(constants, 'ENDPOINT', _DEFAULT_ENDPOINT)}/{repo_id}"


def _repo_path(filename: str, options: HubOptions) -> str:
    return f"{options.subfolder}/{filename}" if options.subfolder else filename


def _pin_key(repo_id: str, options: HubOptions) -> tuple[str, str, str, str]:
    from huggingface_hub import constants

    cache = os.fspath(options.cache_dir) if options.cache_dir is not None else constants.HF_HUB_CACHE
    endpoint = getattr(constants, "ENDPOINT", _DEFAULT_ENDPOINT)
    return (endpoint, os.path.abspath(os.path.expanduser(cache)), repo_id, options.revision or "main")


def _commit_of(path: str, repo_path: str) -> str | None:
    """The commit hash in a cache path ``.../snapshots/<commit>/<repo_path>``."""
    parts = Path(path).parts
    depth = len(repo_path.split("/"))
    if len(parts) > depth + 1 and parts[-depth - 2] == "snapshots" and _COMMIT_HASH.fullmatch(parts[-depth - 1]):
        return parts[-depth - 1]
    return None
