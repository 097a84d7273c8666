"""A small stand-in for the Hugging Face Hub's file-resolution endpoints, on 127.0.0.1.

The real ``huggingface_hub`` client talks to it through ``HF_ENDPOINT``, so the
tests exercise the real download path: the ``HEAD``/``GET`` requests on
``/{repo_id}/resolve/{revision}/{filename}``, the headers the client needs
(``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag``, ``X-Linked-Size``), the
redirect of large (LFS) files to a separate "CDN" origin, ``Range`` requests
when a cut download is resumed, and the ``X-Error-Code`` answers the client
turns into its typed errors.

Repositories are built by the tests, in memory: commits of ``{path: bytes}``,
branches and tags.  Every request is recorded, and faults can be injected per
file: an HTTP status, or a connection cut part-way through the body.

Use it through the ``fake_hub`` fixture (``from hub_server import
fake_hub_fixture`` in a test module makes it available), which also points
the client at the server, gives it an empty cache and token store under
``tmp_path``, and makes its retry back-off instant.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

#: File name endings the Hub keeps in LFS (and so redirects to its CDN), as a
#: default ``.gitattributes`` would.
LFS_SUFFIXES = (".safetensors", ".bin", ".msgpack", ".h5", ".pt", ".pth", ".ckpt", ".onnx", ".npz")


def git_blob_id(content: bytes) -> str:
    """The id git gives a file's content: what the Hub sends as ETag of a non-LFS file."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def sha256(content: bytes) -> str:
    """What the Hub sends as the ETag of an LFS file (and names its cache blob by)."""
    return hashlib.sha256(content).hexdigest()


def _as_bytes(value: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, indent=2, sort_keys=True).encode()


# -- repositories ---------------------------------------------------------------------------------


@dataclass
class HubRepo:
    """One model repository: commits of whole file trees, plus branches and tags pointing at them."""

    repo_id: str
    private: bool = False
    gated: bool = False
    #: bearer tokens that may read the repo (private) or have accepted its conditions (gated)
    tokens: frozenset[str] = frozenset()
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lfs: set[str] = field(default_factory=set)

    def commit(
        self,
        files: Mapping[str, bytes | str | Mapping[str, Any]],
        *,
        branch: str = "main",
        delete: tuple[str, ...] = (),
        lfs: tuple[str, ...] = (),
    ) -> str:
        """Add a commit on ``branch`` (created if new) and return its hash.

        The new tree is the branch's previous tree with ``files`` added or
        replaced and ``delete`` removed.  ``files`` values may be bytes, text,
        or a mapping written as JSON.
        """
        parent = self.branches.get(branch)
        tree = dict(self.commits[parent]) if parent else {}
        for path in delete:
            tree.pop(path, None)
        tree.update({path: _as_bytes(value) for path, value in files.items()})
        self.lfs.update(lfs)
        digest = hashlib.sha1(f"{self.repo_id}\n{parent}\n{len(self.commits)}".encode())
        for path in sorted(tree):
            digest.update(f"{path}\0{git_blob_id(tree[path])}\n".encode())
        sha = digest.hexdigest()
        self.commits[sha] = tree
        self.branches[branch] = sha
        return sha

    def commit_folder(self, folder: str | os.PathLike[str], *, branch: str = "main", **extra: bytes | str) -> str:
        """Commit every file of a local folder (say, one written by ``save_pretrained``), plus ``extra``."""
        root = Path(folder)
        files: dict[str, bytes | str] = {
            path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
        }
        files.update(extra)
        return self.commit(files, branch=branch)

    def tag(self, name: str, revision: str = "main") -> str:
        sha = self.resolve(revision)
        if sha is None:
            raise KeyError(revision)
        self.tags[name] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        """A branch, a tag, a full commit hash or a unique prefix of one (7+ characters), as the Hub accepts."""
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        if revision in self.commits:
            return revision
        if re.fullmatch(r"[0-9a-f]{7,39}", revision):
            matches = [sha for sha in self.commits if sha.startswith(revision)]
            if len(matches) == 1:
                return matches[0]
        return None

    def is_lfs(self, path: str, content: bytes) -> bool:
        return path in self.lfs or path.endswith(LFS_SUFFIXES) or len(content) >= 10 * 1024 * 1024

    def files(self, revision: str = "main") -> dict[str, bytes]:
        sha = self.resolve(revision)
        if sha is None:
            raise KeyError(revision)
        return dict(self.commits[sha])


# -- what the server saw and what it should get wrong ---------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered."""

    method: str
    path: str
    #: "resolve" (the Hub's endpoint), "cdn" (LFS content) or "other"
    kind: str
    repo_id: str | None
    revision: str | None
    filename: str | None
    status: int
    #: bytes of content actually written to the socket
    body_bytes: int
    range: str | None
    authorization: str | None


@dataclass
class Fault:
    """An injected failure for the files of a repo that match ``filename`` (None: every file)."""

    repo_id: str
    filename: str | None
    #: "resolve": HEAD/GET on the resolve endpoint; "download": the request that carries the file's bytes
    stage: str
    #: "status": answer an HTTP error; "cut": close the connection part-way through the body;
    #: "truncate": send a shorter, complete body; "stall": send part of the body, then hang until released
    mode: str = "status"
    status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: for cut, truncate and stall: the byte offset in the file where the body stops (None: half the file)
    at: int | None = None
    #: how many more requests it applies to; None: all of them
    times: int | None = None
    #: for stall: set once the partial body is on the wire; the connection closes when ``release`` is set
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def matches(self, repo_id: str | None, filename: str | None, stage: str) -> bool:
        return (
            self.stage == stage
            and self.repo_id == repo_id
            and (self.filename is None or self.filename == filename)
            and (self.times is None or self.times > 0)
        )


class FakeHub:
    """The state of the fake Hub, and the two servers (Hub and CDN) that serve it."""

    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._blobs: dict[str, bytes] = {}
        self._hub = _Server(self, "hub")
        self._cdn = _Server(self, "cdn")
        self.endpoint = self._hub.url
        self.cdn_url = self._cdn.url
        #: seconds the client asked to sleep between retries (the fixture makes them instant)
        self.client_sleeps: list[float] = []

    # -- building repos ------------------------------------------------------------------------

    def create_repo(
        self, repo_id: str, *, private: bool = False, gated: bool = False, tokens: tuple[str, ...] = ()
    ) -> HubRepo:
        repo = HubRepo(repo_id, private=private, gated=gated, tokens=frozenset(tokens))
        with self._lock:
            self.repos[repo_id] = repo
        return repo

    # -- faults --------------------------------------------------------------------------------

    def fail(
        self,
        repo_id: str,
        filename: str | None = None,
        status: int = 500,
        *,
        stage: str = "resolve",
        error_code: str | None = None,
        error_message: str | None = None,
        times: int | None = None,
    ) -> Fault:
        """Answer ``status`` (with optional ``X-Error-Code``/``X-Error-Message``) instead of the file."""
        fault = Fault(repo_id, filename, stage, "status", status, error_code, error_message, times=times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def cut(self, repo_id: str, filename: str, *, at: int | None = None, times: int | None = None) -> Fault:
        """Close the connection after ``at`` bytes of the file (default: half of it).

        The response still announces the full length, so the client sees a
        body that ends early.  A resumed request (``Range``) that starts at or
        past ``at`` gets its headers and then the cut, before any byte; with
        ``times=1`` only the first download is cut and a resume succeeds.
        """
        return self._add(Fault(repo_id, filename, "download", "cut", at=at, times=times))

    def truncate(self, repo_id: str, filename: str, *, at: int | None = None, times: int | None = None) -> Fault:
        """Send only the first ``at`` bytes (default: half), as a complete response of that length.

        The file's metadata still announces the full size, so only a client
        that checks the size it received against it notices.
        """
        return self._add(Fault(repo_id, filename, "download", "truncate", at=at, times=times))

    def stall(self, repo_id: str, filename: str, *, at: int | None = None) -> Fault:
        """Send the first ``at`` bytes (default: half), then hang until ``fault.release`` is set.

        ``fault.stalled`` is set once those bytes are sent: the moment to kill
        a client process mid-download.  The connection is closed after
        ``release`` is set, or after 10 seconds.
        """
        return self._add(Fault(repo_id, filename, "download", "stall", at=at, times=1))

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def heal(self) -> None:
        """Remove every injected fault (and let stalled connections go)."""
        with self._lock:
            for fault in self._faults:
                fault.release.set()
            self._faults.clear()

    def _take_fault(self, repo_id: str | None, filename: str | None, stage: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(repo_id, filename, stage):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # -- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def asked(self, repo_id: str | None = None) -> set[str]:
        """Every file name any request was about (metadata or content)."""
        return {
            r.filename for r in self.requests if r.filename is not None and (repo_id is None or r.repo_id == repo_id)
        }

    def downloaded(self, repo_id: str | None = None) -> list[str]:
        """File names whose content was sent (in part or whole), one entry per content request."""
        return [
            r.filename
            for r in self.requests
            if r.method == "GET"
            and r.status in (200, 206)
            and r.filename is not None
            and (r.kind == "cdn" or r.body_bytes > 0)
            and (repo_id is None or r.repo_id == repo_id)
        ]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _blob(self, digest: str) -> bytes | None:
        with self._lock:
            return self._blobs.get(digest)

    def _remember_blob(self, content: bytes) -> str:
        digest = sha256(content)
        with self._lock:
            self._blobs[digest] = content
        return digest

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        self.heal()
        self._hub.close()
        self._cdn.close()

    def __enter__(self) -> FakeHub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Server:
    def __init__(self, hub: FakeHub, role: str) -> None:
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        handler = type(f"{role.title()}Handler", (_Handler,), {"hub": hub, "role": role, "owner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-hub-{role}", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        """Stop listening and drop the open connections too, so that even a pooled keep-alive one fails."""
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.lock:
            open_connections = list(self.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)


# -- the HTTP side --------------------------------------------------------------------------------


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    content: bytes = b""
    # for file content: the whole file, and where the body starts in it (Range)
    file_size: int | None = None
    offset: int = 0


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    role: str
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection never holds a handler thread for long
    server_version = "FakeHub/1.0"
    owner: _Server

    def setup(self) -> None:
        super().setup()
        with self.owner.lock:
            self.owner.connections.add(self.connection)

    def finish(self) -> None:
        with self.owner.lock:
            self.owner.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # the tests read the request log instead
        pass

    def do_HEAD(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parsed = urlsplit(self.path)
        repo_id = revision = filename = None
        if self.role == "cdn":
            kind = "cdn"
            query = parse_qs(parsed.query)
            repo_id = query.get("repo", [None])[0]
            filename = query.get("file", [None])[0]
            reply, fault_stage = self._cdn(parsed.path.rsplit("/", 1)[-1]), "download"
        else:
            parts = parsed.path.split("/")
            if "resolve" in parts[2:] and len(parts) > parts.index("resolve", 2) + 2:
                at = parts.index("resolve", 2)
                kind = "resolve"
                repo_id = "/".join(unquote(p) for p in parts[1:at])
                revision = unquote(parts[at + 1])
                filename = unquote("/".join(parts[at + 2 :]))
                reply, fault_stage = self._resolve(repo_id, revision, filename)
            else:
                kind, fault_stage = "other", None
                reply = _error(404, None, "Not Found")
        body_fault = None
        if fault_stage is not None and reply.status < 400:
            stages = ["resolve"] if kind == "resolve" else []
            if fault_stage == "download" and self.command == "GET":
                stages.append("download")
            for stage in stages:
                fault = self.hub._take_fault(repo_id, filename, stage)
                if fault is None:
                    continue
                if fault.mode == "status":
                    reply = _error(fault.status or 500, fault.error_code, fault.error_message or "Injected failure")
                    if revision is not None and (sha := self.hub.repos[repo_id].resolve(revision)):
                        reply.headers["X-Repo-Commit"] = sha
                elif reply.file_size is not None:
                    body_fault = fault
                break
        content, keep = self._body(reply, body_fault)
        # recorded before a byte goes out: the client may act on the answer (and the test look) at once
        self.hub._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                kind=kind,
                repo_id=repo_id,
                revision=revision,
                filename=filename,
                status=reply.status,
                body_bytes=0 if self.command == "HEAD" else keep,
                range=self.headers.get("Range"),
                authorization=self.headers.get("Authorization"),
            )
        )
        self._send(reply, content, keep, body_fault)

    # -- endpoints -----------------------------------------------------------------------------

    def _resolve(self, repo_id: str, revision: str, filename: str) -> tuple[_Reply, str | None]:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return _error(404, "RepoNotFound", "Repository not found"), None
        token = _bearer(self.headers.get("Authorization"))
        if repo.private and token not in repo.tokens:
            # the Hub does not tell "private" from "absent" to someone without access
            status = 401 if token is None else 404
            return _error(status, "RepoNotFound", "Repository not found"), None
        if repo.gated and token not in repo.tokens:
            if token is None:
                message = (
                    f"Access to model {repo_id} is restricted. You must have access to it and be authenticated "
                    "to access it. Please log in."
                )
                return _error(401, "GatedRepo", message), None
            message = (
                f"Access to model {repo_id} is restricted and you are not in the authorized list. "
                f"Visit {self.hub.endpoint}/{repo_id} to ask for access."
            )
            return _error(403, "GatedRepo", message), None
        sha = repo.resolve(revision)
        if sha is None:
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}"), None
        tree = repo.commits[sha]
        if filename not in tree:
            reply = _error(404, "EntryNotFound", "Entry not found")
            reply.headers["X-Repo-Commit"] = sha
            return reply, None
        content = tree[filename]
        common = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if repo.is_lfs(filename, content):
            digest = self.hub._remember_blob(content)
            location = f"{self.hub.cdn_url}/lfs/{digest}?repo={quote(repo_id, safe='')}&file={quote(filename, safe='')}"
            body = f"Found. Redirecting to {location}".encode()
            headers = {
                **common,
                "Location": location,
                "ETag": f'"{git_blob_id(content)}"',  # the pointer file's id; the client prefers the linked one
                "X-Linked-Etag": f'"{digest}"',
                "X-Linked-Size": str(len(content)),
                "Content-Type": "text/plain; charset=utf-8",
            }
            return _Reply(302, headers, body), None
        headers = {**common, "ETag": f'"{git_blob_id(content)}"', "Content-Type": "application/octet-stream"}
        return self._content(content, headers, filename), "download"

    def _cdn(self, digest: str) -> _Reply:
        content = self.hub._blob(digest)
        if content is None:
            return _error(404, None, "NoSuchKey")
        filename = parse_qs(urlsplit(self.path).query).get("file", ["blob"])[0]
        headers = {"ETag": f'"{digest}"', "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        return self._content(content, headers, filename)

    def _content(self, content: bytes, headers: dict[str, str], filename: str) -> _Reply:
        name = filename.rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";"
        requested = self.headers.get("Range")
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", requested or "")
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(content) - 1
            if start >= len(content) or end < start:
                headers["Content-Range"] = f"bytes */{len(content)}"
                return _Reply(416, headers)
            end = min(end, len(content) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            return _Reply(206, headers, content[start : end + 1], file_size=len(content), offset=start)
        return _Reply(200, headers, content, file_size=len(content))

    # -- writing -------------------------------------------------------------------------------

    @staticmethod
    def _body(reply: _Reply, fault: Fault | None) -> tuple[bytes, int]:
        """The body to announce, and how many of its bytes to send before cutting (all, without a cut)."""
        content = reply.content
        if fault is None:
            return content, len(content)
        stop = fault.at if fault.at is not None else (reply.file_size or 0) // 2
        keep = max(0, min(len(content), stop - reply.offset))
        if fault.mode == "truncate":
            if "Content-Range" in reply.headers:
                reply.headers["Content-Range"] = f"bytes {reply.offset}-{reply.offset + keep - 1}/{reply.file_size}"
            return content[:keep], keep
        return content, keep

    def _send(self, reply: _Reply, content: bytes, keep: int, fault: Fault | None) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if keep == len(content):
            self.wfile.write(content)
            return
        assert fault is not None
        try:
            self.wfile.write(content[:keep])
            self.wfile.flush()
            if fault.mode == "stall":
                fault.stalled.set()
                fault.release.wait(10)
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _error(status: int, code: str | None, message: str) -> _Reply:
    headers = {"Content-Type": "application/json", "X-Error-Message": message}
    if code is not None:
        headers["X-Error-Code"] = code
    return _Reply(status, headers, json.dumps({"error": message}).encode())


# -- pointing the client at it --------------------------------------------------------------------

#: environment variables that would send the client elsewhere or change what it does
_CLIENT_ENV_DROPPED = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_OIDC_RESOURCE",
    "HF_OIDC_ID_TOKEN",
    "HUGGINGFACE_CO_STAGING",
    "HF_HUB_DISABLE_PROGRESS_BARS",
    "HF_HUB_ETAG_TIMEOUT",
    "HF_HUB_DOWNLOAD_TIMEOUT",
)


def client_environment(endpoint: str, home: str | os.PathLike[str], *, offline: bool = False) -> dict[str, str]:
    """A copy of ``os.environ`` for a subprocess whose huggingface_hub uses the fake Hub and ``home`` only."""
    env = {key: value for key, value in os.environ.items() if key not in _CLIENT_ENV_DROPPED}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=os.fspath(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_ETAG_TIMEOUT="5",
        HF_HUB_DOWNLOAD_TIMEOUT="5",
    )
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


class _InstantClock:
    """Stands in for the ``time`` module inside huggingface_hub: sleeps are recorded, not slept."""

    def __init__(self, record: list[float]) -> None:
        self._record = record

    def sleep(self, seconds: float) -> None:
        self._record.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class HubClient:
    """The running fake Hub together with the client-side switches a test flips."""

    server: FakeHub
    home: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def cache_dir(self) -> Path:
        return self.home / "hub"

    def set_offline(self, offline: bool = True) -> None:
        """Switch ``HF_HUB_OFFLINE`` for the client in this process (it is read once, at import)."""
        import huggingface_hub.constants as constants

        if offline:
            self.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        else:
            self.monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        self.monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)

    def environment(self, *, offline: bool = False) -> dict[str, str]:
        return client_environment(self.server.endpoint, self.home, offline=offline)

    def cached_files(self) -> list[Path]:
        """Every file under the cache (blobs, snapshots, refs, markers), for "nothing half-written" checks."""
        if not self.cache_dir.exists():
            return []
        return sorted(path for path in self.cache_dir.rglob("*") if path.is_file() or path.is_symlink())

    # FakeHub's API, directly on the fixture
    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)


def _point_client_at(client: HubClient) -> None:
    """Make the in-process huggingface_hub use the fake Hub, a fresh cache and no token, whatever was imported."""
    import huggingface_hub.constants as constants
    import huggingface_hub.file_download as file_download
    from huggingface_hub.utils import _http

    mp, endpoint, home = client.monkeypatch, client.server.endpoint, client.home
    for key in _CLIENT_ENV_DROPPED:
        mp.delenv(key, raising=False)
    for key, value in client_environment(endpoint, home).items():
        if os.environ.get(key) != value:
            mp.setenv(key, value)
    token_path = home / "token"
    for name, value in {
        "ENDPOINT": endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": os.fspath(home),
        "HF_HUB_CACHE": os.fspath(home / "hub"),
        "HUGGINGFACE_HUB_CACHE": os.fspath(home / "hub"),
        "HF_ASSETS_CACHE": os.fspath(home / "assets"),
        "HF_XET_CACHE": os.fspath(home / "xet"),
        "HF_TOKEN_PATH": os.fspath(token_path),
        "HF_STORED_TOKENS_PATH": os.fspath(home / "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": False,
        "HF_HUB_DISABLE_PROGRESS_BARS": None,
        "HF_HUB_ETAG_TIMEOUT": 5,
        "HF_HUB_DOWNLOAD_TIMEOUT": 5,
    }.items():
        if hasattr(constants, name):
            mp.setattr(constants, name, value)
    # back-off between retries (1 s, 2 s, 4 s, ...) is real behaviour worth keeping, but not worth waiting for
    clock = _InstantClock(client.server.client_sleeps)
    mp.setattr(_http, "time", clock)
    mp.setattr(file_download, "time", clock)
    _http.close_session()  # no pooled connection to an earlier test's server


@pytest.fixture(name="fake_hub")
def fake_hub_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubClient]:
    """``fake_hub``: a running fake Hub, this process's huggingface_hub pointed at it, an empty cache in ``tmp_path``.

    Import it as ``from hub_server import fake_hub_fixture`` to make the
    ``fake_hub`` fixture available in a test module.
    """
    server = FakeHub()
    client = HubClient(server, tmp_path / "hf_home", monkeypatch)
    client.home.mkdir()
    try:
        _point_client_at(client)
        _forget_pins()
        yield client
    finally:
        _forget_pins()
        if "huggingface_hub" in sys.modules:
            from huggingface_hub.utils import _http

            _http.close_session()
        server.close()


#: the same fixture under its own name: ``fake_hub = hub_server.fake_hub`` in a test module works too
fake_hub = fake_hub_fixture


def _forget_pins() -> None:
    hub = sys.modules.get("autoload.hub")
    forget = getattr(hub, "_forget_pinned_revisions", None)
    if forget is not None:
        forget()
