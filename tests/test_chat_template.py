"""apply_chat_template against transformers 5 on the same saved tokenizer: texts, ids, files, sandbox, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizer_shapes import byte_level

import autoload
from autoload.errors import ProcessingError
from autoload.tokenization import TokenizersBackend

transformers = pytest.importorskip("transformers")

CHATML = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' "
    "+ message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if tools %}{{ 'Tools: ' + (tools | tojson) }}{% endif %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
TEMPLATES = {"chatml": CHATML, "llama3": LLAMA3}

CONVERSATIONS = [
    [{"role": "user", "content": "Hello there!"}],
    [
        {"role": "system", "content": "You are terse. café 你好"},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4."},
        {"role": "user", "content": "And 3 + 3?  "},
    ],
    [{"role": "user", "content": "Write a haiku"}, {"role": "assistant", "content": "Autumn moonlight -"}],
]


@pytest.fixture(scope="module", params=sorted(TEMPLATES))
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Path]:
    """transformers' tokenizer with the template, saved; ours loaded from that folder."""
    backend = byte_level(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|eot_id|>"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.PreTrainedTokenizerFast(
            tokenizer_object=backend,
            bos_token="<|begin_of_text|>",
            eos_token="<|endoftext|>",
            pad_token="<|endoftext|>",
        )
        theirs.chat_template = TEMPLATES[request.param]
        folder = tmp_path_factory.mktemp(request.param)
        theirs.save_pretrained(folder)
    return theirs, autoload.AutoTokenizer.from_pretrained(folder), folder


def test_template_is_read_from_chat_template_jinja(pair: tuple[Any, Any, Path]) -> None:
    theirs, ours, folder = pair
    assert (folder / "chat_template.jinja").is_file()
    assert ours.chat_template == theirs.chat_template


@pytest.mark.parametrize("index", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("generation_prompt", [False, True])
def test_text_and_ids_match(pair: tuple[Any, Any, Path], index: int, generation_prompt: bool) -> None:
    theirs, ours, _ = pair
    conversation = CONVERSATIONS[index]
    options = {"add_generation_prompt": generation_prompt}
    assert ours.apply_chat_template(conversation, tokenize=False, **options) == theirs.apply_chat_template(
        conversation, tokenize=False, **options
    )
    expected = theirs.apply_chat_template(conversation, **options)
    actual = ours.apply_chat_template(conversation, **options)
    assert sorted(actual.keys()) == sorted(expected.keys())
    for key in expected:
        assert actual[key] == expected[key], key
    assert ours.apply_chat_template(conversation, return_dict=False, **options) == theirs.apply_chat_template(
        conversation, return_dict=False, **options
    )


def test_continue_final_message(pair: tuple[Any, Any, Path]) -> None:
    theirs, ours, _ = pair
    conversation = CONVERSATIONS[2]
    for tokenize in (False, True):
        expected = theirs.apply_chat_template(conversation, continue_final_message=True, tokenize=tokenize)
        actual = ours.apply_chat_template(conversation, continue_final_message=True, tokenize=tokenize)
        assert (dict(actual) if tokenize else actual) == (dict(expected) if tokenize else expected)
    with pytest.raises(ProcessingError, match="do not go together"):
        ours.apply_chat_template(conversation, continue_final_message=True, add_generation_prompt=True)


def test_batches_with_padding_and_tensors(pair: tuple[Any, Any, Path]) -> None:
    theirs, ours, _ = pair
    options = {"add_generation_prompt": True, "padding": True, "return_tensors": "pt"}
    expected = theirs.apply_chat_template(CONVERSATIONS, **options)
    actual = ours.apply_chat_template(CONVERSATIONS, **options)
    assert sorted(actual.keys()) == sorted(expected.keys())
    for key in expected:
        assert isinstance(actual[key], torch.Tensor) and torch.equal(actual[key], expected[key]), key
    texts = ours.apply_chat_template(CONVERSATIONS, tokenize=False)
    assert texts == theirs.apply_chat_template(CONVERSATIONS, tokenize=False) and len(texts) == 3


def test_template_variables_tools_and_explicit_template(pair: tuple[Any, Any, Path]) -> None:
    theirs, ours, _ = pair
    tools = [{"type": "function", "function": {"name": "météo", "parameters": {"type": "object"}}}]
    options = {"tools": tools, "tokenize": False}
    assert ours.apply_chat_template(CONVERSATIONS[0], **options) == theirs.apply_chat_template(
        CONVERSATIONS[0], **options
    )
    template = "{{ greeting }} {% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}"
    options = {"chat_template": template, "tokenize": False, "greeting": "Hi"}
    assert ours.apply_chat_template(CONVERSATIONS[0], **options) == theirs.apply_chat_template(
        CONVERSATIONS[0], **options
    )
    dated = ours.apply_chat_template(CONVERSATIONS[0], chat_template="{{ strftime_now('%Y') }}", tokenize=False)
    assert dated.isdigit() and len(dated) == 4


def test_saving_keeps_the_template_both_ways(pair: tuple[Any, Any, Path], tmp_path: Path) -> None:
    theirs, ours, _ = pair
    ours.save_pretrained(tmp_path)
    assert (tmp_path / "chat_template.jinja").read_text(encoding="utf-8") == theirs.chat_template
    assert "chat_template" not in json.loads((tmp_path / "tokenizer_config.json").read_text())
    back = transformers.AutoTokenizer.from_pretrained(tmp_path)
    again = autoload.AutoTokenizer.from_pretrained(tmp_path)
    for conversation in CONVERSATIONS:
        assert again.apply_chat_template(conversation, tokenize=False) == back.apply_chat_template(
            conversation, tokenize=False
        )


def test_template_in_the_config_and_named_templates(pair: tuple[Any, Any, Path], tmp_path: Path) -> None:
    _, ours, folder = pair
    for path in folder.iterdir():
        if path.name != "chat_template.jinja":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["chat_template"] = [
        {"name": "default", "template": ours.chat_template},
        {"name": "shout", "template": "{% for m in messages %}{{ m.content | upper }}{% endfor %}"},
    ]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    named = TokenizersBackend.from_pretrained(tmp_path)
    for name in (None, "shout"):
        assert named.apply_chat_template(
            CONVERSATIONS[1], chat_template=name, tokenize=False
        ) == theirs.apply_chat_template(CONVERSATIONS[1], chat_template=name, tokenize=False)
    named.save_pretrained(tmp_path / "saved")
    assert TokenizersBackend.from_pretrained(tmp_path / "saved").chat_template == named.chat_template


def test_template_errors_name_their_source(pair: tuple[Any, Any, Path]) -> None:
    _, ours, _ = pair
    refusing = (
        "{% if messages[0]['role'] != 'system' %}{{ raise_exception('a system message comes first') }}{% endif %}"
    )
    with pytest.raises(ProcessingError, match=r"chat_template argument.*a system message comes first"):
        ours.apply_chat_template(CONVERSATIONS[0], chat_template=refusing)
    with pytest.raises(ProcessingError, match="not valid Jinja"):
        ours.apply_chat_template(CONVERSATIONS[0], chat_template="{% for %}")
    with pytest.raises(ProcessingError, match="empty conversation"):
        ours.apply_chat_template([])
    bare = TokenizersBackend(tokenizer_object=ours.backend_tokenizer)
    with pytest.raises(ProcessingError, match="no chat template"):
        bare.apply_chat_template(CONVERSATIONS[0])


def test_templates_run_sandboxed(pair: tuple[Any, Any, Path]) -> None:
    _, ours, _ = pair
    for escape in (
        "{{ messages.__class__.__mro__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{% set ns = namespace(_secret=1) %}",
        "{{ messages.append(1) }}",
    ):
        with pytest.raises(ProcessingError):
            ours.apply_chat_template(CONVERSATIONS[0], chat_template=escape, tokenize=False)


def test_jinja2_is_imported_only_to_render(pair: tuple[Any, Any, Path]) -> None:
    _, _, folder = pair
    code = (
        "import sys, autoload; t = autoload.AutoTokenizer.from_pretrained(sys.argv[1]); t('hi'); "
        "print('jinja2' in sys.modules); t.apply_chat_template([{'role': 'user', 'content': 'x'}]); "
        "print('jinja2' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
