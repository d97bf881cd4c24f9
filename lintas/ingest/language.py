"""Source-language check: Lintas translates from Indonesian only (py3langid, bundled model)."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from lintas.errors import InputError
from lintas.ingest.common import clean_text, inline_text
from lintas.text.article import Article

__all__ = [
    "ACCEPTED",
    "MIN_LETTERS",
    "detect_language",
    "ensure_indonesian",
    "language_name",
    "rank_languages",
    "warm_up",
]

MIN_LETTERS = 20  # shorter texts are not checked: detection would be guesswork
ACCEPTED = frozenset({"id", "ms"})  # Malay is accepted: the two are hard to tell apart
_SAMPLE_CHARS = 5000
_MIN_ACCEPTED_PROB = 0.25  # enough Indonesian/Malay probability even when another language ranks first

_NAMES = {
    "af": "Afrikaans",
    "am": "Amharic",
    "an": "Aragonese",
    "ar": "Arabic",
    "as": "Assamese",
    "az": "Azerbaijani",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "br": "Breton",
    "bs": "Bosnian",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "dz": "Dzongkha",
    "el": "Greek",
    "en": "English",
    "eo": "Esperanto",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fo": "Faroese",
    "fr": "French",
    "fy": "Frisian",
    "ga": "Irish",
    "gd": "Scottish Gaelic",
    "gl": "Galician",
    "gu": "Gujarati",
    "ha": "Hausa",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "ht": "Haitian Creole",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "ig": "Igbo",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "jv": "Javanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "km": "Khmer",
    "kn": "Kannada",
    "ko": "Korean",
    "ku": "Kurdish",
    "ky": "Kyrgyz",
    "la": "Latin",
    "lb": "Luxembourgish",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mg": "Malagasy",
    "mk": "Macedonian",
    "ml": "Malayalam",
    "mn": "Mongolian",
    "mr": "Marathi",
    "ms": "Malay",
    "mt": "Maltese",
    "my": "Burmese",
    "ne": "Nepali",
    "nl": "Dutch",
    "nn": "Norwegian Nynorsk",
    "no": "Norwegian",
    "oc": "Occitan",
    "or": "Odia",
    "pa": "Punjabi",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "qu": "Quechua",
    "ro": "Romanian",
    "ru": "Russian",
    "rw": "Kinyarwanda",
    "sa": "Sanskrit",
    "se": "Northern Sami",
    "si": "Sinhala",
    "sk": "Slovak",
    "sl": "Slovenian",
    "so": "Somali",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "tg": "Tajik",
    "th": "Thai",
    "tk": "Turkmen",
    "tl": "Tagalog",
    "tr": "Turkish",
    "tt": "Tatar",
    "ug": "Uyghur",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "uz": "Uzbek",
    "vi": "Vietnamese",
    "vo": "Volapük",
    "wa": "Walloon",
    "xh": "Xhosa",
    "yo": "Yoruba",
    "yue": "Cantonese",
    "zh": "Chinese",
    "zu": "Zulu",
    "ace": "Acehnese",
    "su": "Sundanese",
    "tet": "Tetum",
}


def language_name(code: str) -> str:
    """English name of a language code (the code itself when unknown)."""
    return _NAMES.get(code, code)


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _ranked(text: str) -> list[tuple[str, float]]:
    return [(str(code), float(prob)) for code, prob in _identifier().rank(text[:_SAMPLE_CHARS])]


def warm_up() -> None:
    """Load the identifier's model now (about 1 s) rather than on the first check: for long-running
    processes (service, worker), so no request or job pays for it."""
    _identifier()


def rank_languages(text: str) -> list[tuple[str, float]]:
    """Every language with its probability, most likely first."""
    return _ranked(text)


def detect_language(text: str) -> tuple[str, float]:
    """``(code, probability)`` of the most likely language of ``text``, e.g. ``("id", 0.97)``."""
    ranked = _ranked(text)
    return ranked[0] if ranked else ("und", 0.0)


def _article_text(article: Article) -> str:
    parts = [article.headline]
    size = len(article.headline)
    for block in article.body:
        if size >= _SAMPLE_CHARS:
            break
        for fragment in [block.html, *block.items]:
            text = inline_text(fragment)
            parts.append(text)
            size += len(text)
    return clean_text(" ".join(parts))


def ensure_indonesian(article: Article) -> None:
    """Raise InputError unless the headline and body read as Indonesian (or Malay).

    Texts with fewer than :data:`MIN_LETTERS` letters are not checked.
    """
    text = _article_text(article)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return
    ranked = _ranked(text)
    if not ranked:
        return
    code, prob = ranked[0]
    accepted_prob = sum(p for c, p in ranked if c in ACCEPTED)
    if code in ACCEPTED or accepted_prob >= _MIN_ACCEPTED_PROB:
        return
    raise InputError(
        f"the article text looks like {language_name(code)} ({code}), not Indonesian "
        f"(confidence {prob:.2f}); Lintas translates from Indonesian only"
    )
