"""Turn "a local folder or a Hub repo id" plus a file name into a local path.

Everything that reads a checkpoint file goes through :func:`resolve_file`, so
local folders, single json files and Hub repositories behave the same way for
configs, weights, tokenizers and processors.  huggingface_hub is imported only
when a repo id actually has to be fetched.
"""

from __future__ import annotations

import os
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


def _looks_like_repo_id(text: str) -> bool:
    parts = text.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not text.startswith((".", "~")) and "\\" not in text


def _resolve_from_hub(repo_id: str, filename: str, options: HubOptions, *, required: bool) -> str | None:
    if not _looks_like_repo_id(repo_id):
        raise FileResolutionError(
            f"{repo_id!r} is neither an existing local folder nor a Hub repo id ('name' or 'org/name')."
        )
    import huggingface_hub
    from huggingface_hub import errors as hub_errors

    try:
        return huggingface_hub.hf_hub_download(
            repo_id,
            filename,
            subfolder=options.subfolder or None,
            revision=options.revision,
            cache_dir=options.cache_dir,
            token=options.token,
            local_files_only=options.local_files_only,
            force_download=options.force_download,
            library_name="autoload",
        )
    except hub_errors.GatedRepoError as exc:
        raise FileResolutionError(
            f"{repo_id} is gated or private: access to {filename!r} was refused. "
            "Log in (`hf auth login`) or pass token=..., after accepting the repo's conditions."
        ) from exc
    except hub_errors.RepositoryNotFoundError as exc:
        raise FileResolutionError(
            f"Repository {repo_id!r} was not found on the Hub (or is private and no valid token was given). "
            "Check the spelling, or pass a local folder."
        ) from exc
    except hub_errors.RevisionNotFoundError as exc:
        raise FileResolutionError(
            f"Revision {options.revision!r} does not exist in {repo_id}. Pass an existing branch, tag or commit hash."
        ) from exc
    except hub_errors.EntryNotFoundError as exc:
        is_offline_miss = isinstance(exc, hub_errors.LocalEntryNotFoundError)
        if not required and not is_offline_miss:
            return None
        if is_offline_miss:
            if not required and _known_absent_in_cache(repo_id, filename, options):
                return None
            raise FileResolutionError(
                f"{filename!r} of {repo_id} is not in the local cache and downloading is off "
                "(HF_HUB_OFFLINE=1 or local_files_only=True) or the Hub could not be reached. "
                "Download it once while online, or pass a local folder."
            ) from exc
        raise FileResolutionError(
            f"{repo_id} has no file {filename!r} at revision {options.revision or 'main'}."
        ) from exc
    except hub_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise FileResolutionError(
            f"The Hub answered HTTP {status} for {filename!r} of {repo_id}: {exc}. Retry later, or pass a local folder."
        ) from exc
    except (OSError, ValueError) as exc:
        raise FileResolutionError(f"Could not fetch {filename!r} of {repo_id}: {exc}") from exc


def _known_absent_in_cache(repo_id: str, filename: str, options: HubOptions) -> bool:
    """True when an earlier online lookup recorded that the repo lacks the file."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.file_download import _CACHED_NO_EXIST

    path = f"{options.subfolder}/{filename}" if options.subfolder else filename
    found = try_to_load_from_cache(repo_id, path, cache_dir=options.cache_dir, revision=options.revision)
    return found is _CACHED_NO_EXIST
