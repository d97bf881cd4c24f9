"""Prompts for LLM engines: news-style system prompt, few-shot turns, output cleaning.

PROMPT_VERSION goes into every edition's signature; change it whenever the wording changes.
"""

from __future__ import annotations

import re

from lintas.text.article import Segment
from lintas.text.languages import get_language

__all__ = [
    "PROMPT_VERSION",
    "system_prompt",
    "few_shot",
    "user_turn",
    "example_turns",
    "naive_prompt",
    "clean_output",
]

PROMPT_VERSION = "news-4"

_SCRIPT_RULES = {
    "en": "Use standard English spelling of Indonesian names and places; keep Indonesian names as written.",
    "fr": "Use French typography and conventions (e.g. « » quotes, decimal comma: 1,5 %).",
    "zh": "Write Simplified Chinese only. Use the standard Chinese transliteration of names; write numbers with Arabic digits.",
    "ja": "Write natural Japanese (kanji and kana). Write foreign and Indonesian names in katakana; use Arabic digits.",
    "ar": "Write Modern Standard Arabic only. Write names in Arabic script; keep digits as Western Arabic numerals (0-9).",
    # back into the source language (the optional back-translation check, lintas.quality.backtranslate)
    "id": "Write standard Indonesian as an Indonesian newspaper would; write names in Latin letters.",
}

_LABELS = {
    "headline": "[Headline] ",
    "kicker": "[Kicker] ",
    "subheadline": "[Subheadline] ",
    "heading": "[Subheading] ",
    "caption": "[Caption] ",
}

# Few-shot examples written by hand: a headline and two body sentences (with a link and a
# handle), the same three in every language.
_SHOTS_ID = (
    ("headline", "Pemerintah Naikkan Harga BBM Bersubsidi Mulai Sabtu"),
    (
        "sentence",
        "Menteri Keuangan Sri Mulyani mengatakan inflasi pada Maret mencapai 1,5 persen, "
        'seperti dilaporkan <a href="#1">Badan Pusat Statistik</a>.',
    ),
    ("sentence", '"Kami akan terus memantau situasi," tulis @BMKG_info di Twitter pada Senin (14/3).'),
)
_SHOTS: dict[str, tuple[str, str, str]] = {
    "en": (
        "Government Raises Subsidized Fuel Prices From Saturday",
        "Finance Minister Sri Mulyani said inflation reached 1.5 percent in March, as reported by "
        '<a href="#1">Statistics Indonesia</a>.',
        '"We will continue to monitor the situation," @BMKG_info wrote on Twitter on Monday (14/3).',
    ),
    "zh": (
        "政府自周六起上调补贴燃油价格",
        '财政部长斯里·穆利亚尼表示，据<a href="#1">印尼中央统计局</a>报告，3月份通货膨胀率达到1.5%。',
        "“我们将继续监测局势，”@BMKG_info周一（3月14日）在推特上写道。",
    ),
    "ja": (
        "政府、補助金付き燃料価格を土曜から引き上げ",
        'スリ・ムルヤニ財務相は、<a href="#1">インドネシア中央統計局</a>の発表によると、3月のインフレ率が1.5%に達したと述べた。',
        "「引き続き状況を注視していく」と、@BMKG_infoは月曜日（3月14日）にツイッターに投稿した。",
    ),
    "ar": (
        "الحكومة ترفع أسعار الوقود المدعوم اعتبارًا من السبت",
        "قالت وزيرة المالية سري مولياني إن التضخم بلغ 1.5 في المئة في مارس، وفقًا لما أعلنه "
        '<a href="#1">مكتب الإحصاء المركزي</a>.',
        '"سنواصل مراقبة الوضع"، هذا ما كتبه @BMKG_info على تويتر يوم الاثنين (14/3).',
    ),
    "fr": (
        "Le gouvernement augmente les prix des carburants subventionnés dès samedi",
        "La ministre des Finances, Sri Mulyani, a déclaré que l'inflation avait atteint 1,5 % en mars, "
        'selon <a href="#1">l\'Office central des statistiques</a>.',
        "« Nous continuerons à surveiller la situation », a écrit @BMKG_info sur Twitter lundi (14/3).",
    ),
}


_SHOTS["id"] = (_SHOTS_ID[0][1], _SHOTS_ID[1][1], _SHOTS_ID[2][1])


def system_prompt(target: str, strict: bool = False, source: str = "id") -> str:
    lang = get_language(target).name
    rules = [
        f"You are a senior news translator. Translate {get_language(source).name} news text into {lang}.",
        "Translate faithfully and completely: keep every fact, name, number, date and quotation; add nothing.",
        f"Write natural, idiomatic {lang} as a professional newspaper would, not word for word. "
        f"Lines marked [Headline] are headlines: translate them in {lang} headline style, short and natural.",
        'Keep the HTML tags (<a href="#1">...</a>, <b>, <i>, <br>) around the matching translated words.',
        "Copy URLs, e-mail addresses, @handles and #hashtags exactly as they are.",
        _SCRIPT_RULES[target],
        "When a (Glossary: term = translation) line follows the text, use exactly those translations "
        "and do not repeat the line.",
        "Answer with the translation only: no notes, no explanations, no quotation of the source.",
    ]
    if strict:
        rules.append(
            f"Your previous answer was rejected. Translate the WHOLE text into {lang}, keep every number, "
            "every tag and every @handle, URL and #hashtag unchanged."
        )
    return "\n".join(rules)


def user_turn(segment: Segment) -> str:
    text = _LABELS.get(segment.kind, "") + segment.text
    if segment.terms:
        text += "\n(Glossary: " + "; ".join(f"{a} = {b}" for a, b in segment.terms) + ")"
    return text


def example_turns(segment: Segment) -> list[dict[str, str]]:
    """The segment's examples from the translation memory as (user, assistant) turns, to come right before it."""
    turns: list[dict[str, str]] = []
    for source, target in segment.examples:
        turns += [{"role": "user", "content": source}, {"role": "assistant", "content": target}]
    return turns


def few_shot(target: str, source: str = "id") -> list[dict[str, str]]:
    turns: list[dict[str, str]] = []
    sources = [text for _, text in _SHOTS_ID] if source == "id" else list(_SHOTS[source])
    for (kind, _), source_text, target_text in zip(_SHOTS_ID, sources, _SHOTS[target], strict=True):
        turns.append({"role": "user", "content": _LABELS.get(kind, "") + source_text})
        turns.append({"role": "assistant", "content": target_text})
    return turns


def naive_prompt(text: str, target: str) -> list[dict[str, str]]:
    """The baseline the pipeline is compared with: one sentence, one plain instruction."""
    lang = get_language(target).name
    return [{"role": "user", "content": f"Translate the following Indonesian text into {lang}:\n\n{text}"}]


_CHATTER = re.compile(
    r"^\s*(?:sure[,!.]?\s*)?(?:here\s+is|here's|this\s+is)\s+(?:the|a|my|your)?\s*"
    r"(?:\w+\s+){0,3}translation[^:\n]*:\s*",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^\s*(?:translation|english|french|chinese|japanese|arabic|traduction|翻译|译文|翻訳)\s*[:：]\s*",
    re.IGNORECASE,
)
# Our segment labels ("[Headline] "), which small models echo, often translated ("[头线]").
_BRACKET_LABEL = re.compile(r"^\s*[\[【［][^\]】］<>\n]{1,25}[\]】］]\s*")
_GLOSSARY_LINE = re.compile(r"^\s*\(?\s*(?:glossary|glossaire|术语表|用語集)\s*[:：].*$", re.IGNORECASE | re.MULTILINE)
_FENCE = re.compile(r"^```[\w-]*\n?|\n?```\s*$")
_NOTE = re.compile(
    r"\n\s*(?:\(?\s*note|\(?\s*explanation|\*\*note|注[:：]|备注|remarque)\b.*$", re.IGNORECASE | re.DOTALL
)


def clean_output(text: str, source: str) -> tuple[str, bool]:
    """Strip chatter such as "Here is the translation:" and labels; returns (text, changed)."""
    original = text
    text = _FENCE.sub("", text.strip()).strip()
    text = _GLOSSARY_LINE.sub("", text).strip()
    text = _CHATTER.sub("", text).strip()
    text = _LABEL.sub("", text).strip()
    if not _BRACKET_LABEL.match(source):
        text = _BRACKET_LABEL.sub("", text).strip()
    text = _NOTE.sub("", text).strip()
    if "\n" in text and "<br>" not in source and "\n" not in source:
        # the first line of the answer; a line that ends in a colon introduces it ("Voici la traduction :",
        # "以下のようになります：") unless the source itself ends so
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not source.rstrip().endswith((":", "：")):
            lines = [line for line in lines if not line.endswith((":", "："))] or lines[-1:]
        text = lines[0] if lines else ""
    quotes = ('"', "“", "”", "'")
    opening = (*quotes, "«", "「", "『")
    if len(text) > 2 and source[:1] not in opening:
        straight = text[0] in quotes and text[-1] in quotes and not any(q in text[1:-1] for q in quotes)
        paired = (text[0], text[-1]) in (("「", "」"), ("«", "»"), ("『", "』")) and text[0] not in text[1:-1]
        if straight or paired:
            text = text[1:-1].strip()
    return text, text != original.strip()
