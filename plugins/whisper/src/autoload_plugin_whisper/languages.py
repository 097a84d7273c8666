"""Whisper's languages and tasks: the table both the tokenizer and ``generate()`` read.

The order of :data:`LANGUAGES` is the order of the language tokens in every
multilingual Whisper vocabulary: ``<|en|>`` comes right after
``<|startoftranscript|>``, then ``<|zh|>``, and so on.  The tokenizer relies
on it to find a language token's id.  No torch here.
"""

from __future__ import annotations

# code:name pairs in token order (an underscore stands for a space in a name).
_TABLE = """
en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese pt:portuguese tr:turkish
pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian id:indonesian hi:hindi fi:finnish vi:vietnamese
he:hebrew uk:ukrainian el:greek ms:malay cs:czech ro:romanian da:danish hu:hungarian ta:tamil no:norwegian
th:thai ur:urdu hr:croatian bg:bulgarian lt:lithuanian la:latin mi:maori ml:malayalam cy:welsh sk:slovak
te:telugu fa:persian lv:latvian bn:bengali sr:serbian az:azerbaijani sl:slovenian kn:kannada et:estonian
mk:macedonian br:breton eu:basque is:icelandic hy:armenian ne:nepali mn:mongolian bs:bosnian kk:kazakh
sq:albanian sw:swahili gl:galician mr:marathi pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali
af:afrikaans oc:occitan ka:georgian be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao
uz:uzbek fo:faroese ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese sa:sanskrit lb:luxembourgish
my:myanmar bo:tibetan tl:tagalog mg:malagasy as:assamese tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir
jw:javanese su:sundanese yue:cantonese
"""

#: Language code -> English name, in the order of the language tokens.
LANGUAGES: dict[str, str] = dict(
    (code, name.replace("_", " ")) for code, name in (pair.split(":") for pair in _TABLE.split())
)

#: English name (and a few other names in use) -> language code.
TO_LANGUAGE_CODE: dict[str, str] = {
    **{name: code for code, name in LANGUAGES.items()},
    "burmese": "my",
    "valencian": "ca",
    "flemish": "nl",
    "haitian": "ht",
    "letzeburgesch": "lb",
    "pushto": "ps",
    "panjabi": "pa",
    "moldavian": "ro",
    "moldovan": "ro",
    "sinhalese": "si",
    "castilian": "es",
    "mandarin": "zh",
}

#: What the model can be asked to do with speech.
TASKS: tuple[str, ...] = ("translate", "transcribe")


def language_code(language: str, error: type[Exception] = ValueError) -> str:
    """The code (``"fr"``) of a language given by code or English name, any case (``"French"``)."""
    if not isinstance(language, str):
        raise error(f"A Whisper language is a string such as 'en' or 'english', not {language!r}.")
    wanted = language.lower()
    if wanted in TO_LANGUAGE_CODE:
        return TO_LANGUAGE_CODE[wanted]
    if wanted in LANGUAGES:
        return wanted
    known = sorted(LANGUAGES) if len(wanted) <= 3 else sorted(TO_LANGUAGE_CODE)
    raise error(f"Unsupported Whisper language {language!r}. Use one of: {', '.join(known)}.")


def check_task(task: str, error: type[Exception] = ValueError) -> str:
    if task not in TASKS:
        raise error(f"Unsupported Whisper task {task!r}: use 'transcribe' or 'translate'.")
    return task


__all__ = ["LANGUAGES", "TASKS", "TO_LANGUAGE_CODE", "check_task", "language_code"]
