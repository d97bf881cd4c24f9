"""The article's name table (lintas.pipeline.names) and the script checks that guard names: one name, one rendering."""

from __future__ import annotations

from collections.abc import Sequence

from lintas.pipeline.names import find_names, name_glossary, resolve_names, territory_form
from lintas.pipeline.translate import Options, translate_article
from lintas.quality import check_segment, foreign_words, mixed_script_words
from lintas.text.article import Article, Block, Segment
from lintas.text.glossary import Glossary, Term

TEXTS = [
    "Kanye West resmi mengganti namanya menjadi Ye.",
    "Rapper Kanye West mengumumkan perubahan itu di Twitter.",
    "Menurut West, nama itu punya makna religius bagi keluarga Kardashian di Selandia Baru.",
    "Juru bicara NASA tidak berkomentar.",
]


class NameEngine:
    """Renders names from a table; every other segment becomes "<names it renders> 文".  ``bad`` segments (by id)
    write ``Kanye West`` some other way on the first attempt."""

    name = "names"
    model = "names-1"

    def __init__(self, table: dict[str, str], bad: Sequence[str] = ()) -> None:
        self.table = table
        self.bad = set(bad)
        self.asked: list[tuple[str, str]] = []
        self.terms: list[tuple[tuple[str, str], ...]] = []
        self.texts: list[str] = []

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        out = []
        for seg in segments:
            if seg.id == "name":
                self.asked.append((seg.text, target_lang))
                out.append(self.table.get(seg.text, seg.text))
                continue
            self.terms.append(seg.terms)
            self.texts.append(seg.text)
            names = [form for _, form in seg.terms] or ["新闻"]
            if seg.id in self.bad and attempt == 0:
                names = [("凯恩斯西" if form == "坎耶·韦斯特" else form) for form in names]
            out.append("".join(names) + chr(0x4E00 + sum(map(ord, seg.id))) + "发生了这件事。")  # a different one each
        return out


def test_find_names_joins_adjacent_name_words_and_finds_countries() -> None:
    names = find_names(TEXTS)
    assert names[0] == "Kanye West" and "Ye" not in names  # two letters: too short to tell from a word
    assert "Selandia Baru" in names and "NASA" in names and "West" in names and "Kardashian" in names
    assert not {"Rapper", "Menurut", "Juru", "Senin", "Twitter"} & set(names)
    assert find_names(["x " * 50_000 + "Budi Santoso datang"]) == ["Budi Santoso"]  # linear: no quadratic scan


def test_territories_come_from_cldr() -> None:
    assert territory_form("Selandia Baru", "zh") == "新西兰"
    assert territory_form("Selandia Baru", "fr") == "Nouvelle-Zélande"
    assert territory_form("Kanye", "zh") is None


def test_resolution_order_glossary_cldr_engine_latin() -> None:
    glossary = Glossary([Term(source="Kardashian", forms={"zh": ("卡戴珊",)})])
    engine = NameEngine({"Kanye West": "坎耶·韦斯特", "Kardashian": "Kardashian"})
    table = {r.source: r for r in resolve_names(find_names(TEXTS), "zh", engine, glossary)}
    assert "Kardashian" not in table  # the glossary has it: it stays the glossary's job
    no_glossary = {r.source: r for r in resolve_names(["Kardashian"], "zh", engine, None)}
    assert no_glossary["Kardashian"].origin == "latin"  # the engine kept Latin letters: so does the table
    assert (table["Selandia Baru"].form, table["Selandia Baru"].origin) == ("新西兰", "cldr")
    assert (table["Kanye West"].form, table["Kanye West"].origin) == ("坎耶·韦斯特", "engine")
    assert table["West"].form == "韦斯特"  # the surname alone: its part of the full name, not another question
    assert (table["NASA"].form, table["NASA"].origin) == ("NASA", "latin")  # zh keeps acronyms in Latin
    assert ("West", "zh") not in engine.asked and ("NASA", "zh") not in engine.asked
    assert resolve_names(find_names(TEXTS), "en", engine, glossary) == [
        r for r in resolve_names(find_names(TEXTS), "en", engine, glossary) if r.origin == "cldr"
    ]  # English keeps names as written; only CLDR exonyms are resolved


def test_latin_fallback_asks_the_engine_nothing() -> None:
    glossary = Glossary([Term(source="Kardashian", forms={"zh": ("卡戴珊",)})])
    engine = NameEngine({"Kanye West": "坎耶·韦斯特"})
    table = {r.source: r for r in resolve_names(find_names(TEXTS), "zh", engine, glossary, latin=True)}
    assert (table["Kanye West"].form, table["Kanye West"].origin) == ("Kanye West", "latin")
    assert (table["Selandia Baru"].form, table["Selandia Baru"].origin) == ("新西兰", "cldr")  # CLDR still first
    assert "Kardashian" not in table and not engine.asked


def _article() -> Article:
    return Article(id="n1", headline="Kanye West ganti nama", body=[Block(type="paragraph", html=" ".join(TEXTS))])


def test_every_segment_gets_the_name_and_a_stray_rendering_is_retried() -> None:
    engine = NameEngine({"Kanye West": "坎耶·韦斯特", "Ye": "椰"}, bad=["b0.s1"])
    edition = translate_article(_article(), ["zh"], engine, options=Options(names=True), pivot="")[0].edition
    assert {n.source: n.form for n in edition.names}["Kanye West"] == "坎耶·韦斯特"
    with_name = [s for s in edition.segments if "Kanye West" in s.source]
    assert len(with_name) == 3 and all("坎耶·韦斯特" in s.target for s in with_name)
    retried = next(s for s in edition.segments if s.id == "b0.s1")
    assert retried.attempts == 2  # the first attempt wrote 凯恩斯西: name_inconsistent, critical, retried
    assert all(("Kanye West", "坎耶·韦斯特") in t or not t for t in engine.terms[:1])
    # the engine reads the name already written as the edition writes it (and the surname as its part)
    assert engine.texts[0] == "坎耶·韦斯特 ganti nama" and not any("Kanye West" in t for t in engine.texts)
    assert any(t.startswith("Menurut 韦斯特,") for t in engine.texts)
    assert edition.status == "published"


def test_a_name_that_stays_wrong_holds_the_edition() -> None:
    class Stubborn(NameEngine):
        def translate_batch(self, segments, source_lang, target_lang, *, context=(), attempt=0):  # type: ignore[no-untyped-def]
            return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=0)

    engine = Stubborn({"Kanye West": "坎耶·韦斯特", "Ye": "椰"}, bad=["b0.s1"])
    edition = translate_article(_article(), ["zh"], engine, options=Options(names=True), pivot="")[0].edition
    assert edition.status == "held"
    assert any("name_inconsistent" in r and "坎耶·韦斯特" in r for r in edition.hold_reasons)


def test_name_glossary_flags_a_missing_rendering_as_critical() -> None:
    engine = NameEngine({"Kanye West": "坎耶·韦斯特"})
    glossary = name_glossary(resolve_names(["Kanye West"], "zh", engine, None), "zh")
    flags = check_segment("Kanye West datang.", "凯恩斯西来了。", "zh", glossary=glossary)
    assert [(f.code, f.severity) for f in flags if f.code == "name_inconsistent"] == [("name_inconsistent", "critical")]
    assert not [
        f
        for f in check_segment("Kanye West datang.", "坎耶·韦斯特来了。", "zh", glossary=glossary)
        if f.code == "name_inconsistent"
    ]  # control: the right rendering passes


def test_mixed_script_words_are_critical_and_clean_text_passes() -> None:
    garbled = "قال كينيwest إن الروappers للفifthة"
    assert mixed_script_words(garbled, "ar") == ["كينيwest", "الروappers", "للفifthة"]
    flags = check_segment("Kanye West berkata bahwa para rapper ...", garbled, "ar")
    assert ("mixed_script", "critical") in [(f.code, f.severity) for f in flags]
    assert mixed_script_words("قال كانييه ويست إن iPhone جديد", "ar") == []  # control: separate words are fine
    assert mixed_script_words("他用iPhone拍了照片", "zh") == []  # Latin glued to Han is how Chinese writes brands
    assert mixed_script_words("Он сказал 北京", "zh") == []  # separate words: the foreign-word check's job
    assert mixed_script_words("北京Москва", "zh") == ["北京Москва"]
    assert mixed_script_words("ウェスト氏は「今日々」と語った", "ja") == []  # 々 is a Han mark, not another script


def test_foreign_words_not_in_the_source_are_critical() -> None:
    source = "Kanye West adalah rapper terkenal dari NASA."
    assert foreign_words(source, "Persistentに カニエ・ウェスト は rapper です", "ja") == ["Persistent"]
    assert foreign_words(source, "Kanye West 是 NASA 的 EU 说唱歌手", "zh") == []  # in the source, or an acronym
    assert foreign_words(source, "Kanye West это рэпер", "ar") == ["это", "рэпер"]
    flags = check_segment(source, "Persistentに カニエ・ウェストはラッパーです。", "ja")
    assert ("foreign_words", "critical") in [(f.code, f.severity) for f in flags]
    assert foreign_words(source, "Kanye West is a rapper", "en") == []  # Latin targets are not checked here
