"""Loading from a Hub repository, end to end, against the fake Hub of ``hub_server``.

The real huggingface_hub client does every request; only the server is ours.
Each test gets its own server, cache (``HF_HOME`` under ``tmp_path``) and no
token, so nothing here can reach the real Hub or depend on another test.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hub_server import HubClient, fake_hub_fixture  # noqa: F401  (provides the fake_hub fixture)

import autoload
from autoload import hub
from autoload.errors import FileResolutionError
from autoload.hub import HubOptions, resolve_file

REPO = "org/toy"
WEIGHTS = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(2048))  # 64 KiB, no repeats
BIG_README = b"# A model card\n" + b"lorem ipsum " * 20_000


def make_toy_repo(client: HubClient, repo_id: str = REPO, **repo_options: object) -> str:
    """A repo with a toy config, a weights file and the files a loader must leave alone."""
    repo = client.create_repo(repo_id, **repo_options)
    return repo.commit(
        {
            "config.json": {"model_type": "toy", "hidden_size": 7},
            "model.safetensors": WEIGHTS,
            "pytorch_model.bin": b"pickle, never to be fetched" * 100,
            "flax_model.msgpack": b"flax weights" * 1000,
            "README.md": BIG_README,
        }
    )


def snapshot_dir(client: HubClient, repo_id: str, commit: str) -> Path:
    return client.cache_dir / f"models--{repo_id.replace('/', '--')}" / "snapshots" / commit


def forget_this_process() -> None:
    """What a new process knows: only the cache on disk."""
    hub._forget_pinned_revisions()


# -- downloading into the standard cache --------------------------------------------------------


def test_config_is_downloaded_alone_into_the_standard_cache(fake_hub: HubClient) -> None:
    commit = make_toy_repo(fake_hub)

    config = autoload.AutoConfig.from_pretrained(REPO)

    assert type(config).__name__ == "ToyConfig"
    assert config.hidden_size == 7
    assert fake_hub.asked() == {"config.json"}
    assert fake_hub.downloaded() == ["config.json"]
    assert (snapshot_dir(fake_hub, REPO, commit) / "config.json").is_file()
    refs = fake_hub.cache_dir / "models--org--toy" / "refs" / "main"
    assert refs.read_text() == commit


def test_pretrained_config_reads_a_repo(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    config = autoload.PretrainedConfig.from_pretrained(REPO)
    assert config.hidden_size == 7
    assert fake_hub.asked() == {"config.json"}


def test_weights_come_through_the_cdn_redirect_as_a_content_addressed_blob(fake_hub: HubClient) -> None:
    commit = make_toy_repo(fake_hub)

    path = resolve_file(REPO, "model.safetensors", HubOptions())

    assert Path(path).read_bytes() == WEIGHTS
    assert Path(path) == snapshot_dir(fake_hub, REPO, commit) / "model.safetensors"
    assert Path(path).resolve().name == hashlib.sha256(WEIGHTS).hexdigest()
    kinds = [(r.method, r.kind, r.status) for r in fake_hub.requests]
    assert kinds == [("HEAD", "resolve", 302), ("GET", "cdn", 200)]


def test_downloading_weights_shows_a_progress_bar(
    fake_hub: HubClient, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # huggingface_hub draws bars only on a terminal unless TQDM_POSITION=-1 says to draw them anyway
    monkeypatch.setenv("TQDM_POSITION", "-1")
    make_toy_repo(fake_hub)

    resolve_file(REPO, "model.safetensors", HubOptions())
    first = capfd.readouterr().err
    resolve_file(REPO, "model.safetensors", HubOptions())
    second = capfd.readouterr().err

    assert "model.safetensors" in first
    assert "100%" in first
    assert "model.safetensors" not in second  # nothing downloaded, nothing drawn


def test_a_second_load_in_the_same_process_makes_no_request(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    autoload.AutoConfig.from_pretrained(REPO)
    first = resolve_file(REPO, "model.safetensors", HubOptions())
    assert resolve_file(REPO, "tokenizer.json", HubOptions(), required=False) is None
    fake_hub.clear_requests()

    config = autoload.AutoConfig.from_pretrained(REPO)
    again = resolve_file(REPO, "model.safetensors", HubOptions())
    absent = resolve_file(REPO, "tokenizer.json", HubOptions(), required=False)

    assert fake_hub.requests == []
    assert (config.hidden_size, again, absent) == (7, first, None)


def test_force_download_fetches_again(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    resolve_file(REPO, "model.safetensors", HubOptions())
    fake_hub.clear_requests()

    path = resolve_file(REPO, "model.safetensors", HubOptions(force_download=True))

    assert Path(path).read_bytes() == WEIGHTS
    assert fake_hub.downloaded() == ["model.safetensors"]


def test_a_new_process_checks_for_updates_without_downloading_again(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    autoload.AutoConfig.from_pretrained(REPO)
    resolve_file(REPO, "model.safetensors", HubOptions())
    forget_this_process()
    fake_hub.clear_requests()

    autoload.AutoConfig.from_pretrained(REPO)
    resolve_file(REPO, "model.safetensors", HubOptions())

    assert {r.method for r in fake_hub.requests} == {"HEAD"}
    assert fake_hub.downloaded() == []


def test_a_file_in_a_subfolder(fake_hub: HubClient) -> None:
    repo = fake_hub.create_repo(REPO)
    repo.commit({"text/config.json": {"model_type": "toy", "hidden_size": 3}})

    config = autoload.AutoConfig.from_pretrained(REPO, subfolder="text")

    assert config.hidden_size == 3
    assert fake_hub.asked() == {"text/config.json"}


def test_repo_id_without_organisation(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub, "toy")
    assert autoload.AutoConfig.from_pretrained("toy").hidden_size == 7


# -- the environment variables, in a fresh interpreter ------------------------------------------

LOAD_SCRIPT = """
import json, sys
import autoload
from autoload.hub import HubOptions, resolve_file
config = autoload.AutoConfig.from_pretrained(sys.argv[1])
weights = resolve_file(sys.argv[1], "model.safetensors", HubOptions())
print(json.dumps({"hidden_size": config.hidden_size, "weights": weights}))
"""


def run_client(client: HubClient, *, offline: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, REPO],
        env={**client.environment(offline=offline), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_hf_endpoint_hf_home_and_offline_mode_from_the_environment(fake_hub: HubClient) -> None:
    commit = make_toy_repo(fake_hub)

    online = run_client(fake_hub, TQDM_POSITION="-1")
    assert online.returncode == 0, online.stderr
    result = json.loads(online.stdout)
    assert result["hidden_size"] == 7
    assert Path(result["weights"]) == snapshot_dir(fake_hub, REPO, commit) / "model.safetensors"
    assert "100%" in online.stderr and "model.safetensors" in online.stderr
    assert sorted(fake_hub.downloaded()) == ["config.json", "model.safetensors"]

    fake_hub.clear_requests()
    offline = run_client(fake_hub, offline=True)
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == result
    assert fake_hub.requests == []


# -- revisions ------------------------------------------------------------------------------------


@pytest.fixture
def history(fake_hub: HubClient) -> dict[str, str]:
    """A repo whose config changes over commits, branches and tags."""
    repo = fake_hub.create_repo(REPO)
    first = repo.commit({"config.json": {"model_type": "toy", "hidden_size": 1}, "model.safetensors": b"one" * 100})
    repo.tag("v1.0")
    second = repo.commit({"config.json": {"model_type": "toy", "hidden_size": 2}, "model.safetensors": b"two" * 100})
    dev = repo.commit({"config.json": {"model_type": "toy", "hidden_size": 3}}, branch="dev")
    return {"first": first, "second": second, "dev": dev}


@pytest.mark.parametrize(
    ("revision", "expected"), [(None, 2), ("main", 2), ("v1.0", 1), ("dev", 3), ("first", 1), ("second", 2)]
)
def test_revision_pins_a_commit_branch_or_tag(
    fake_hub: HubClient, history: dict[str, str], revision: str | None, expected: int
) -> None:
    revision = history.get(revision, revision) if revision else None
    config = autoload.AutoConfig.from_pretrained(REPO, revision=revision)
    assert config.hidden_size == expected
    assert {r.revision for r in fake_hub.requests} == {revision or "main"}


def test_a_commit_in_the_cache_needs_no_request_even_in_a_new_process(
    fake_hub: HubClient, history: dict[str, str]
) -> None:
    autoload.AutoConfig.from_pretrained(REPO, revision=history["first"])
    forget_this_process()
    fake_hub.clear_requests()

    assert autoload.AutoConfig.from_pretrained(REPO, revision=history["first"]).hidden_size == 1
    assert fake_hub.requests == []


def test_one_load_never_mixes_files_of_two_pushes(fake_hub: HubClient, history: dict[str, str]) -> None:
    assert autoload.AutoConfig.from_pretrained(REPO).hidden_size == 2
    fake_hub.repos[REPO].commit({"config.json": {"model_type": "toy", "hidden_size": 4}, "model.safetensors": b"4"})

    # the weights of the commit the config came from, although main has moved on
    weights = resolve_file(REPO, "model.safetensors", HubOptions())
    assert Path(weights).read_bytes() == b"two" * 100
    asked_for_weights = {r.revision for r in fake_hub.requests if r.kind == "resolve" and r.filename != "config.json"}
    assert asked_for_weights == {history["second"]}

    forget_this_process()
    assert autoload.AutoConfig.from_pretrained(REPO).hidden_size == 4


def test_a_pinned_commit_that_disappeared_falls_back_to_the_branch(
    fake_hub: HubClient, history: dict[str, str]
) -> None:
    autoload.AutoConfig.from_pretrained(REPO)
    repo = fake_hub.repos[REPO]
    newest = repo.commit({"config.json": {"model_type": "toy", "hidden_size": 5}, "model.safetensors": b"five"})
    del repo.commits[history["second"]]  # history rewritten by a force-push

    weights = resolve_file(REPO, "model.safetensors", HubOptions())

    assert Path(weights).read_bytes() == b"five"
    assert Path(weights).parent.name == newest


def test_an_unknown_revision_is_a_clear_error(fake_hub: HubClient, history: dict[str, str]) -> None:
    with pytest.raises(FileResolutionError, match=r"Revision 'nope' does not exist in org/toy"):
        autoload.AutoConfig.from_pretrained(REPO, revision="nope")


# -- offline --------------------------------------------------------------------------------------


def test_offline_mode_reads_the_cache_without_a_request(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    weights = resolve_file(REPO, "model.safetensors", HubOptions())
    autoload.AutoConfig.from_pretrained(REPO)
    forget_this_process()
    fake_hub.clear_requests()
    fake_hub.set_offline()

    assert autoload.AutoConfig.from_pretrained(REPO).hidden_size == 7
    assert resolve_file(REPO, "model.safetensors", HubOptions()) == weights
    assert fake_hub.requests == []


def test_offline_mode_fails_clearly_for_a_file_not_in_the_cache(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    autoload.AutoConfig.from_pretrained(REPO)
    fake_hub.set_offline()

    with pytest.raises(FileResolutionError, match=r"'model\.safetensors' of org/toy is not in the local cache") as info:
        resolve_file(REPO, "model.safetensors", HubOptions())
    assert "HF_HUB_OFFLINE=1" in str(info.value)
    assert fake_hub.requests[-1].filename == "config.json"  # nothing asked while offline


def test_local_files_only_reads_the_cache_and_fails_clearly_without_it(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    with pytest.raises(FileResolutionError, match=r"not in the local cache.*local_files_only=True"):
        autoload.AutoConfig.from_pretrained(REPO, local_files_only=True)
    assert fake_hub.requests == []

    autoload.AutoConfig.from_pretrained(REPO)
    forget_this_process()
    fake_hub.clear_requests()
    assert autoload.AutoConfig.from_pretrained(REPO, local_files_only=True).hidden_size == 7
    assert fake_hub.requests == []


def test_offline_an_optional_file_the_hub_said_was_absent_stays_absent(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    assert resolve_file(REPO, "tokenizer.json", HubOptions(), required=False) is None
    forget_this_process()
    fake_hub.set_offline()

    assert resolve_file(REPO, "tokenizer.json", HubOptions(), required=False) is None
    # never asked while online: offline cannot tell "absent" from "not downloaded", so it says so
    with pytest.raises(FileResolutionError, match="not in the local cache"):
        resolve_file(REPO, "vocab.txt", HubOptions(), required=False)


# -- what does not exist --------------------------------------------------------------------------


def test_a_repo_that_does_not_exist(fake_hub: HubClient) -> None:
    with pytest.raises(FileResolutionError, match=r"Repository 'org/missing' was not found on the Hub at http://"):
        autoload.AutoConfig.from_pretrained("org/missing")


def test_a_file_that_does_not_exist(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    with pytest.raises(FileResolutionError, match=r"org/toy has no file 'preprocessor_config\.json' at revision main"):
        resolve_file(REPO, "preprocessor_config.json", HubOptions())
    assert resolve_file(REPO, "preprocessor_config.json", HubOptions(), required=False) is None


def test_a_repo_without_config(fake_hub: HubClient) -> None:
    fake_hub.create_repo(REPO).commit({"model.safetensors": WEIGHTS})
    with pytest.raises(FileResolutionError, match=r"org/toy has no file 'config\.json'"):
        autoload.AutoConfig.from_pretrained(REPO)


def test_not_a_repo_id(fake_hub: HubClient) -> None:
    with pytest.raises(FileResolutionError, match="neither an existing local folder nor a Hub repo id"):
        autoload.AutoConfig.from_pretrained("./no/such/folder")
    assert fake_hub.requests == []


# -- access control -------------------------------------------------------------------------------


def test_a_gated_repo_without_a_token(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub, gated=True, tokens=("hf_accepted",))
    with pytest.raises(FileResolutionError, match=r"org/toy is gated.*Log in") as info:
        autoload.AutoConfig.from_pretrained(REPO)
    assert f"{fake_hub.endpoint}/org/toy" in str(info.value)
    assert fake_hub.requests[0].status == 401


def test_a_gated_repo_whose_conditions_were_not_accepted(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub, gated=True, tokens=("hf_accepted",))
    with pytest.raises(FileResolutionError, match=r"gated and the token used has no access.*Accept its conditions"):
        autoload.AutoConfig.from_pretrained(REPO, token="hf_someone_else")
    assert fake_hub.requests[0].status == 403


def test_the_token_opens_a_gated_repo_and_never_leaves_the_hub(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub, gated=True, tokens=("hf_accepted",))

    autoload.AutoConfig.from_pretrained(REPO, token="hf_accepted")
    weights = resolve_file(REPO, "model.safetensors", HubOptions(token="hf_accepted"))

    assert Path(weights).read_bytes() == WEIGHTS
    assert {r.authorization for r in fake_hub.requests if r.kind == "resolve"} == {"Bearer hf_accepted"}
    assert {r.authorization for r in fake_hub.requests if r.kind == "cdn"} == {None}


def test_a_private_repo_without_a_token(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub, private=True, tokens=("hf_member",))
    with pytest.raises(FileResolutionError, match=r"not found.*or it is private.*pass token="):
        autoload.AutoConfig.from_pretrained(REPO)
    assert autoload.AutoConfig.from_pretrained(REPO, token="hf_member").hidden_size == 7


@pytest.mark.parametrize(
    ("status", "fragment"), [(401, r"HTTP 401: not authenticated.*log in"), (403, r"HTTP 403: forbidden")]
)
def test_a_refusal_without_an_error_code(fake_hub: HubClient, status: int, fragment: str) -> None:
    make_toy_repo(fake_hub)
    fake_hub.fail(REPO, "config.json", status, error_message="Not allowed here")
    with pytest.raises(FileResolutionError, match=fragment) as info:
        autoload.AutoConfig.from_pretrained(REPO)
    assert "Not allowed here" in str(info.value)


# -- server failures ------------------------------------------------------------------------------


def test_a_server_error_is_retried_then_reported(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.fail(REPO, "config.json", 503)

    with pytest.raises(FileResolutionError, match=r"server error \(HTTP 503\).*no cached copy"):
        autoload.AutoConfig.from_pretrained(REPO)

    assert len(fake_hub.requests) > 2  # the client retried...
    assert fake_hub.client_sleeps  # ...with back-off in between
    assert not (fake_hub.cache_dir / "models--org--toy" / "snapshots").exists()


def test_a_passing_server_error_is_retried_away(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.fail(REPO, "config.json", 502, times=2)
    assert autoload.AutoConfig.from_pretrained(REPO).hidden_size == 7


def test_a_server_error_while_downloading_the_content(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.fail(REPO, "model.safetensors", 500, stage="download")
    with pytest.raises(FileResolutionError, match=r"HTTP 500.*'model\.safetensors' of org/toy"):
        resolve_file(REPO, "model.safetensors", HubOptions())


def test_the_cache_answers_while_the_hub_is_down(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    autoload.AutoConfig.from_pretrained(REPO)
    forget_this_process()
    fake_hub.fail(REPO, None, 500)
    assert autoload.AutoConfig.from_pretrained(REPO).hidden_size == 7


def test_an_unreachable_hub(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.server.close()
    with pytest.raises(FileResolutionError, match=r"Could not reach the Hub at http://127\.0\.0\.1:\d+"):
        autoload.AutoConfig.from_pretrained(REPO)


# -- interrupted downloads ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def big_weights() -> bytes:
    """Larger than huggingface_hub's 10 MiB write chunk, so a cut leaves real bytes on disk."""
    return random.Random(0).randbytes(24 * 1024 * 1024)


def assert_nothing_usable_left(client: HubClient, repo_id: str = REPO) -> None:
    """No snapshot entry for the weights, and no blob but the complete config."""
    storage = client.cache_dir / f"models--{repo_id.replace('/', '--')}"
    assert not list(storage.glob("snapshots/*/model.safetensors"))
    blobs = [p for p in storage.glob("blobs/*") if not p.name.endswith(".incomplete")]
    assert [p.read_bytes()[:1] for p in blobs] == [b"{"] * len(blobs), "only configs may be complete blobs"


def test_a_connection_cut_halfway_is_an_error_and_leaves_nothing_usable(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.cut(REPO, "model.safetensors")

    with pytest.raises(FileResolutionError, match=r"download of 'model\.safetensors' of org/toy .* was interrupted"):
        resolve_file(REPO, "model.safetensors", HubOptions())
    cuts = [r.body_bytes for r in fake_hub.requests if r.kind == "cdn"]
    assert len(cuts) > 1 and set(cuts) == {len(WEIGHTS) // 2}  # the client tried again, and was cut again
    assert_nothing_usable_left(fake_hub)
    assert not [p for p in fake_hub.cached_files() if p.name.endswith(".incomplete")]

    forget_this_process()
    fake_hub.set_offline()
    with pytest.raises(FileResolutionError, match="not in the local cache"):
        resolve_file(REPO, "model.safetensors", HubOptions())

    fake_hub.set_offline(False)
    fake_hub.heal()
    assert Path(resolve_file(REPO, "model.safetensors", HubOptions())).read_bytes() == WEIGHTS


def test_a_connection_cut_once_is_retried_to_the_exact_file(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.cut(REPO, "model.safetensors", at=10_000, times=1)

    path = resolve_file(REPO, "model.safetensors", HubOptions())

    assert Path(path).read_bytes() == WEIGHTS
    cdn = [(r.status, r.body_bytes) for r in fake_hub.requests if r.kind == "cdn"]
    assert cdn == [(200, 10_000), (200, len(WEIGHTS))]  # under one write-chunk: nothing kept, so fetched again


def test_a_large_download_cut_once_resumes_where_it_stopped(fake_hub: HubClient) -> None:
    weights = big_weights()
    fake_hub.create_repo(REPO).commit({"config.json": {"model_type": "toy"}, "model.safetensors": weights})
    fake_hub.cut(REPO, "model.safetensors", at=len(weights) * 3 // 4, times=1)

    path = resolve_file(REPO, "model.safetensors", HubOptions())

    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(weights).digest()
    first, resumed = [r for r in fake_hub.requests if r.kind == "cdn"]
    assert (first.status, first.range) == (200, None)
    start = int(resumed.range.removeprefix("bytes=").rstrip("-"))
    assert 0 < start < len(weights) * 3 // 4
    assert (resumed.status, resumed.body_bytes) == (206, len(weights) - start)


def test_a_body_shorter_than_announced_is_rejected(fake_hub: HubClient) -> None:
    make_toy_repo(fake_hub)
    fake_hub.truncate(REPO, "model.safetensors")

    with pytest.raises(FileResolutionError, match=r"was interrupted.*Consistency check failed"):
        resolve_file(REPO, "model.safetensors", HubOptions())

    assert_nothing_usable_left(fake_hub)
    fake_hub.heal()
    assert Path(resolve_file(REPO, "model.safetensors", HubOptions())).read_bytes() == WEIGHTS


def test_a_process_killed_mid_download_leaves_nothing_usable(fake_hub: HubClient) -> None:
    weights = big_weights()
    fake_hub.create_repo(REPO).commit({"config.json": {"model_type": "toy"}, "model.safetensors": weights})
    stall = fake_hub.stall(REPO, "model.safetensors", at=len(weights) * 3 // 4)
    process = subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, REPO],
        env=fake_hub.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert stall.stalled.wait(60), "the client never reached the weights"
    finally:
        process.kill()
        process.wait(timeout=30)
        stall.release.set()
    # the killed client left its partial download behind, under a name nothing will ever read
    leftovers = [p for p in fake_hub.cached_files() if p.name.endswith(".incomplete")]
    assert leftovers and all(p.stat().st_size < len(weights) for p in leftovers)
    assert_nothing_usable_left(fake_hub)

    fake_hub.set_offline()
    with pytest.raises(FileResolutionError, match="not in the local cache"):
        resolve_file(REPO, "model.safetensors", HubOptions())
    fake_hub.set_offline(False)
    path = resolve_file(REPO, "model.safetensors", HubOptions())
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(weights).digest()


# -- whole models ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny random BERT saved by transformers, whole and sharded."""
    pytest.importorskip("autoload_plugin_bert")
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    model = transformers.BertModel(config).eval()
    root = tmp_path_factory.mktemp("tiny-bert")
    model.save_pretrained(root / "whole")
    model.save_pretrained(root / "sharded", max_shard_size="20KB")
    return {"whole": root / "whole", "sharded": root / "sharded"}


def bert_outputs(model: object, folder: Path) -> tuple[object, object]:
    import torch
    import transformers

    reference = transformers.BertModel.from_pretrained(folder).eval()
    ids = torch.tensor([[2, 5, 7, 11, 3]])
    with torch.no_grad():
        return model(ids).last_hidden_state, reference(ids).last_hidden_state


def test_automodel_from_a_repo_fetches_only_config_and_safetensors(
    fake_hub: HubClient, tiny_bert: dict[str, Path]
) -> None:
    import torch

    fake_hub.create_repo("org/tiny-bert").commit_folder(
        tiny_bert["whole"],
        **{
            "pytorch_model.bin": b"pickle, never to be fetched" * 100,
            "flax_model.msgpack": b"flax" * 1000,
            "README.md": BIG_README.decode(),
            "tokenizer.json": "{}",
        },
    )

    model = autoload.AutoModel.from_pretrained("org/tiny-bert")

    assert fake_hub.asked() == {"config.json", "model.safetensors"}
    assert sorted(fake_hub.downloaded()) == ["config.json", "model.safetensors"]
    ours, theirs = bert_outputs(model, tiny_bert["whole"])
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)

    fake_hub.clear_requests()
    autoload.AutoModel.from_pretrained("org/tiny-bert")
    assert fake_hub.requests == []


def test_automodel_from_a_sharded_repo_fetches_the_index_then_only_its_shards(
    fake_hub: HubClient, tiny_bert: dict[str, Path]
) -> None:
    import torch

    folder = tiny_bert["sharded"]
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 1
    fake_hub.create_repo("org/tiny-bert").commit_folder(
        folder, **{"model-00099-of-00099.safetensors": "a stale shard", "pytorch_model.bin": "never"}
    )

    model = autoload.AutoModel.from_pretrained("org/tiny-bert")

    assert sorted(fake_hub.downloaded()) == sorted(["config.json", "model.safetensors.index.json", *shards])
    assert fake_hub.asked() == {"config.json", "model.safetensors", "model.safetensors.index.json", *shards}
    assert [r.status for r in fake_hub.requests if r.filename == "model.safetensors"] == [404]
    ours, theirs = bert_outputs(model, folder)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)

    forget_this_process()
    fake_hub.clear_requests()
    fake_hub.set_offline()
    offline = autoload.AutoModel.from_pretrained("org/tiny-bert")
    assert fake_hub.requests == []
    torch.testing.assert_close(bert_outputs(offline, folder)[0], theirs, atol=1e-5, rtol=0)


def test_automodel_reports_a_cut_weights_download(fake_hub: HubClient, tiny_bert: dict[str, Path]) -> None:
    fake_hub.create_repo("org/tiny-bert").commit_folder(tiny_bert["whole"])
    fake_hub.cut("org/tiny-bert", "model.safetensors")

    with pytest.raises(FileResolutionError, match=r"'model\.safetensors' of org/tiny-bert .* was interrupted"):
        autoload.AutoModel.from_pretrained("org/tiny-bert")

    fake_hub.heal()
    model = autoload.AutoModel.from_pretrained("org/tiny-bert")
    assert model.config.hidden_size == 32


def test_the_fixture_points_the_client_at_the_fake_hub(fake_hub: HubClient) -> None:
    import huggingface_hub.constants as constants

    assert constants.ENDPOINT == fake_hub.endpoint == os.environ["HF_ENDPOINT"]
    assert fake_hub.endpoint.startswith("http://127.0.0.1:")
    assert Path(constants.HF_HUB_CACHE) == fake_hub.cache_dir
    assert not constants.HF_HUB_OFFLINE


# -- processing classes from the Hub -------------------------------------------------------------------------


def test_image_processor_from_a_repo_fetches_only_its_config(fake_hub: HubClient, tmp_path: Path) -> None:
    pytest.importorskip("autoload_plugin_vit")
    from autoload_plugin_vit.image_processing import ViTImageProcessor

    ViTImageProcessor(size={"height": 20, "width": 20}, image_mean=[0.1, 0.2, 0.3]).save_pretrained(tmp_path)
    fake_hub.create_repo("org/tiny-vit").commit_folder(
        tmp_path, **{"config.json": {"model_type": "vit"}, "model.safetensors": b"\0" * 4096, "README.md": "big"}
    )

    processor = autoload.AutoImageProcessor.from_pretrained("org/tiny-vit")

    assert type(processor).__name__ == "ViTImageProcessor"
    assert processor.size == {"height": 20, "width": 20} and list(processor.image_mean) == [0.1, 0.2, 0.3]
    assert "model.safetensors" not in fake_hub.downloaded() and "README.md" not in fake_hub.downloaded()
    assert "preprocessor_config.json" in fake_hub.downloaded()


def test_speech_processor_from_a_repo_in_the_older_layout(fake_hub: HubClient, tmp_path: Path) -> None:
    pytest.importorskip("autoload_plugin_wav2vec2")
    from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
    from autoload_plugin_wav2vec2.processing import Wav2Vec2Processor
    from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "A": 5, "B": 6, "C": 7}
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(), Wav2Vec2CTCTokenizer(vocab=vocab))
    processor.save_pretrained(tmp_path, legacy_format=True)
    fake_hub.create_repo("org/tiny-asr").commit_folder(
        tmp_path, **{"config.json": {"model_type": "wav2vec2"}, "model.safetensors": b"\0" * 4096}
    )

    loaded = autoload.AutoProcessor.from_pretrained("org/tiny-asr")

    assert type(loaded).__name__ == "Wav2Vec2Processor"
    assert loaded.tokenizer.get_vocab() == vocab
    assert loaded.batch_decode([[5, 5, 0, 6, 4, 7]]) == ["AB C"]
    assert "model.safetensors" not in fake_hub.downloaded()
