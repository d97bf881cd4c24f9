"""Target languages: names, scripts, direction, fonts and the machine-translation notice."""

from __future__ import annotations

from dataclasses import dataclass

from lintas.errors import InputError

__all__ = ["Language", "LANGUAGES", "TARGETS", "get_language", "parse_targets"]


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # English name, used in prompts
    native: str
    script: str  # dominant script: Latin, Han, Japanese, Arabic
    direction: str = "ltr"
    fonts: str = "Georgia, 'Times New Roman', serif"
    notice: str = ""
    original_label: str = ""
    versions_label: str = ""  # the language switcher's label on public pages
    space_between_sentences: bool = True


LANGUAGES: dict[str, Language] = {
    "id": Language(
        "id",
        "Indonesian",
        "Bahasa Indonesia",
        "Latin",
        notice="",
        original_label="Artikel asli",
        versions_label="Bahasa",
    ),
    "en": Language(
        "en",
        "English",
        "English",
        "Latin",
        notice=(
            "This English version was generated automatically by AI and may contain inaccuracies. "
            "The Indonesian original is authoritative."
        ),
        original_label="Read the Indonesian original",
        versions_label="Languages",
    ),
    "zh": Language(
        "zh",
        "Chinese (Simplified)",
        "简体中文",
        "Han",
        fonts="'Noto Sans CJK SC', 'Noto Serif CJK SC', 'PingFang SC', 'Microsoft YaHei', 'Source Han Sans SC', sans-serif",
        notice="本中文版本由人工智能自动生成，可能存在不准确之处。请以印度尼西亚语原文为准。",
        original_label="阅读印度尼西亚语原文",
        versions_label="语言",
        space_between_sentences=False,
    ),
    "ja": Language(
        "ja",
        "Japanese",
        "日本語",
        "Japanese",
        fonts="'Noto Sans CJK JP', 'Noto Serif CJK JP', 'Hiragino Sans', 'Yu Gothic', 'Meiryo', sans-serif",
        notice="この日本語版はAIによって自動生成されたもので、不正確な内容を含む可能性があります。インドネシア語の原文が正式な版です。",
        original_label="インドネシア語の原文を読む",
        versions_label="言語",
        space_between_sentences=False,
    ),
    "ar": Language(
        "ar",
        "Arabic",
        "العربية",
        "Arabic",
        direction="rtl",
        fonts="'Noto Naskh Arabic', 'Noto Sans Arabic', 'Amiri', 'Geeza Pro', 'Segoe UI', Tahoma, sans-serif",
        notice="أُنشئت هذه النسخة العربية تلقائيًا بواسطة الذكاء الاصطناعي وقد تحتوي على أخطاء. النص الأصلي باللغة الإندونيسية هو المرجع المعتمد.",
        original_label="اقرأ النص الأصلي باللغة الإندونيسية",
        versions_label="اللغات",
    ),
    "fr": Language(
        "fr",
        "French",
        "Français",
        "Latin",
        notice=(
            "Cette version française a été générée automatiquement par une IA et peut contenir des "
            "inexactitudes. L'original indonésien fait foi."
        ),
        original_label="Lire l'original en indonésien",
        versions_label="Langues",
    ),
}

TARGETS: tuple[str, ...] = ("en", "zh", "ja", "ar", "fr")


def get_language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise InputError(f"unknown language code {code!r}: choose from {', '.join(TARGETS)}") from None


def parse_targets(spec: str | None) -> list[str]:
    """``"en,zh"`` -> ``["en", "zh"]``; checks every code, keeps order, drops duplicates."""
    if spec is None or not spec.strip():
        return list(TARGETS)
    out: list[str] = []
    for raw in spec.split(","):
        code = raw.strip().lower()
        if not code:
            continue
        if code not in TARGETS:
            raise InputError(f"unknown target language {raw.strip()!r}: choose from {', '.join(TARGETS)}")
        if code not in out:
            out.append(code)
    if not out:
        raise InputError("no target language given")
    return out


# Dateline cities: the Latin forms stay for English and French (newsroom convention keeps them
# in capitals); Chinese, Japanese and Arabic editions use the usual local names.
_CITIES: dict[str, dict[str, str]] = {
    "JAKARTA": {"zh": "雅加达", "ja": "ジャカルタ", "ar": "جاكرتا"},
    "SURABAYA": {"zh": "泗水", "ja": "スラバヤ", "ar": "سورابايا"},
    "BANDUNG": {"zh": "万隆", "ja": "バンドン", "ar": "باندونغ"},
    "MEDAN": {"zh": "棉兰", "ja": "メダン", "ar": "ميدان"},
    "SEMARANG": {"zh": "三宝垄", "ja": "スマラン", "ar": "سمارانغ"},
    "YOGYAKARTA": {"zh": "日惹", "ja": "ジョグジャカルタ", "ar": "يوجياكارتا"},
    "DENPASAR": {"zh": "登巴萨", "ja": "デンパサール", "ar": "دينباسار"},
    "MAKASSAR": {"zh": "望加锡", "ja": "マカッサル", "ar": "ماكاسار"},
    "PALEMBANG": {"zh": "巨港", "ja": "パレンバン", "ar": "باليمبانغ"},
    "BOGOR": {"zh": "茂物", "ja": "ボゴール", "ar": "بوغور"},
    "LONDON": {"zh": "伦敦", "ja": "ロンドン", "ar": "لندن"},
    "WASHINGTON": {"zh": "华盛顿", "ja": "ワシントン", "ar": "واشنطن"},
    "BEIJING": {"zh": "北京", "ja": "北京", "ar": "بكين"},
    "TOKYO": {"zh": "东京", "ja": "東京", "ar": "طوكيو"},
}


def localize_dateline(dateline: str | None, target: str) -> str | None:
    """``"JAKARTA, KOMPAS.com -"`` -> ``"雅加达, KOMPAS.com -"`` for zh; unchanged for en/fr."""
    if not dateline:
        return dateline
    head, sep, _ = dateline.partition(",")
    city = (head if sep else dateline.rstrip(" -–—:")).strip()
    local = _CITIES.get(city.upper(), {}).get(target)
    if not local:
        return dateline
    return dateline.replace(city, local, 1)
