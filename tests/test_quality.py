"""Golden tables for the segment checks, span protection, number matching and output cleaning."""

from __future__ import annotations

import pytest

from lintas.engines.prompts import clean_output
from lintas.quality import check_segment, script_share
from lintas.quality.numbers import missing_numbers
from lintas.text.inline import from_tagged, parse_inline, render_inline, slice_runs, to_tagged
from lintas.text.protect import find_spans, missing_spans, repair_spans


def codes(source: str, target: str, lang: str) -> set[str]:
    return {f.code for f in check_segment(source, target, lang)}


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("naik 1,5 juta orang", "rose by 1.5 million people", []),
        ("naik 1,5 juta orang", "增加了150万人", []),
        ("naik 1,5 juta orang", "a augmenté de 1,5 million", []),
        ("Rp 3.000.000 per bulan", "Rp3,000,000 a month", []),
        ("sebanyak 12.500 orang", "12 500 personnes", []),
        ("pukul 10.30 WIB", "at 10:30 a.m. WIB", []),
        ("pada 14/3/2019", "2019年3月14日", []),
        ("sebanyak ١٢ orang", "12 people", []),
        ("ada 5 orang", "five people", []),  # small numbers may be spelled out
        ("pada tahun 2019", "in 2018", ["2019"]),
        ("naik 1,5 juta orang", "rose by 15 million people", ["1,5"]),
        ("sebanyak 12.500 orang", "1,250 people", ["12.500"]),
    ],
)
def test_numbers(source: str, target: str, expected: list[str]) -> None:
    assert missing_numbers(source, target) == expected


@pytest.mark.parametrize(
    ("source", "target", "lang", "expected"),
    [
        (
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "President Joko Widodo opened a new toll road.",
            "en",
            set(),
        ),
        ("Presiden Joko Widodo meresmikan jalan tol baru.", "佐科总统为新的收费公路剪彩。", "zh", set()),
        ("Presiden Joko Widodo meresmikan jalan tol baru.", "ジョコ大統領が新しい有料道路を開通させた。", "ja", set()),
        ("Presiden Joko Widodo meresmikan jalan tol baru.", "افتتح الرئيس جوكو ويدودو طريقًا جديدًا.", "ar", set()),
        (
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "en",
            {"untranslated"},
        ),
        (
            "Presiden Joko Widodo meresmikan jalan tol baru itu kemarin.",
            "Presiden Joko Widodo meresmikan jalan tol yang baru itu kemarin sore.",
            "fr",
            {"untranslated"},
        ),
        (
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "President Joko Widodo opened a new toll road.",
            "zh",
            {"wrong_language", "too_long"},
        ),
        (
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "佐科总统为新的收费公路剪彩，总统为新的收费公路剪彩。",
            "ja",
            {"wrong_language"},
        ),
        (
            "Presiden Joko Widodo meresmikan jalan tol baru.",
            "Le président Joko Widodo a inauguré une nouvelle autoroute à péage.",
            "en",
            {"wrong_language"},
        ),
        ("Presiden meresmikan jalan tol baru di Jawa Barat.", "President.", "en", {"too_short"}),
        (
            "Presiden meresmikan jalan tol.",
            "The president the president the president the president opened",
            "en",
            {"repetition", "too_long"},
        ),
        ("Kanye West", "Kanye West", "ar", set()),  # a bare name may stay in Latin letters
        ("Presiden meresmikan jalan tol.", "", "en", {"empty"}),
    ],
)
def test_check_segment(source: str, target: str, lang: str, expected: set[str]) -> None:
    assert codes(source, target, lang) == expected


def test_script_share_counts_latin_words_not_letters() -> None:
    share = script_share("Rapper Kanye West将自己改名为Ye。")
    assert share["Han"] > 0.5


def test_protected_spans() -> None:
    text = (
        'Lihat https://kompas.id/a?b=1. Kirim ke redaksi@kompas.id, ikuti @zlj517 dan #PemiluDamai <a href="#1">x</a>.'
    )
    assert [(s.kind, s.text) for s in find_spans(text)] == [
        ("url", "https://kompas.id/a?b=1"),
        ("email", "redaksi@kompas.id"),
        ("handle", "@zlj517"),
        ("hashtag", "#PemiluDamai"),
    ]
    missing = missing_spans(text, "See https://kompas.id/a?b=1 and follow @ZLJ 517 #PemiluDamai redaksi@kompas.id")
    assert [s.text for s in missing] == ["@zlj517"]
    assert repair_spans("follow @ZLJ 517 now", missing) == ("follow @zlj517 now", [])


@pytest.mark.parametrize(
    ("raw", "source", "clean"),
    [
        ("Here is the translation:\nThe president spoke.", "Presiden berbicara.", "The president spoke."),
        ("Sure! Here's the English translation: The president spoke.", "Presiden berbicara.", "The president spoke."),
        ("[Headline] Kanye West Changes Name", "Kanye West ganti nama", "Kanye West Changes Name"),
        ("[头线] 坎耶改名", "Kanye West ganti nama", "坎耶改名"),
        ('"The president spoke."', "Presiden berbicara.", "The president spoke."),
        ('"We will work," he said.', '"Kami akan bekerja," katanya.', '"We will work," he said.'),
        ("The president spoke.\n\nNote: 'berbicara' means 'to speak'.", "Presiden berbicara.", "The president spoke."),
        ("```\nThe president spoke.\n```", "Presiden berbicara.", "The president spoke."),
        # an introducing line ends in a colon, in any language; the answer may then be quoted
        ("Voici la traduction en français :\n\nLe président a parlé.", "Presiden berbicara.", "Le président a parlé."),
        (
            "英語の文を日本語に翻訳すると：\n\n「大統領が話した。」\n\nこの翻訳は…",
            "Presiden berbicara.",
            "大統領が話した。",
        ),
        ("这句话的中文翻译是：\n\n“总统讲话了。”", "Presiden berbicara.", "总统讲话了。"),
        ("«Le président a parlé.»", "Presiden berbicara.", "Le président a parlé."),
        # the controls: a quoted source keeps its quotes, a colon the source ends with stays, quotes inside stay
        ("「我々は働く」と彼は言った。", "“Kami bekerja,” katanya.", "「我々は働く」と彼は言った。"),
        (
            "«Nous travaillerons», a-t-il dit, «demain»",
            "Presiden berbicara.",
            "«Nous travaillerons», a-t-il dit, «demain»",
        ),
        ("Ia berkata:\nfoo", "Dia berkata:", "Ia berkata:"),
    ],
)
def test_clean_output(raw: str, source: str, clean: str) -> None:
    assert clean_output(raw, source)[0] == clean


def test_inline_round_trip_and_sanitizing() -> None:
    runs = parse_inline(
        'Kata <a href="https://x.id/?a=1&amp;b=2" onclick="x()">tautan <b>ini</b></a>.<br>'
        '<script>alert(1)</script><a href="javascript:alert(1)">js</a> <img src=x onerror=alert(1)>'
    )
    html = render_inline(runs)
    assert html == 'Kata <a href="https://x.id/?a=1&amp;b=2">tautan <b>ini</b></a>.<br>js'
    tagged, links = to_tagged(runs)
    assert tagged == 'Kata <a href="#1">tautan <b>ini</b></a>.<br>js' and links == ["https://x.id/?a=1&b=2"]
    back = from_tagged('Word <a href="#1">link <b>this</b></a>.<br>js', links, {"b", "br"})
    assert render_inline(back.runs) == 'Word <a href="https://x.id/?a=1&amp;b=2">link <b>this</b></a>.<br>js'
    assert not back.missing_links and not back.lost_marks
    invented = from_tagged('Word <a href="#7">x</a> <a href="https://evil.example">y</a>', links)
    assert invented.unknown_links == 2 and invented.missing_links == links
    assert render_inline(invented.runs) == "Word x y"
    lost = from_tagged("Word link this. js", links, {"b", "br"})
    assert lost.missing_links == ["https://x.id/?a=1&b=2"] and lost.lost_marks == {"b", "br"}
    assert render_inline(slice_runs(runs, 5, 15)) == '<a href="https://x.id/?a=1&amp;b=2">tautan <b>ini</b></a>'


# -- checks added for the quality issue ---------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "target", "lang", "expected"),
    [
        # names: kept, misspelled, swapped; Indonesian common words and exonyms are not names
        ("Pertemuan itu dihadiri Kavanaugh dan Ford.", "Kavanaugh and Ford attended the meeting.", "en", set()),
        (
            "Pertemuan itu dihadiri Kavanaugh dan Ford.",
            "Kavanuagh and Ford attended the meeting.",
            "en",
            {"name_misspelled"},
        ),
        (
            "Pertemuan itu dihadiri Kavanaugh dan Ford.",
            "Sturridge and Ford attended the meeting.",
            "en",
            {"name_missing"},
        ),
        ("Laporan itu dikirim ke Komite Kehakiman.", "The report was sent to the Judiciary Committee.", "en", set()),
        ("Dia tiba di Bolivia kemarin malam.", "Il est arrivé en Bolivie hier soir.", "fr", set()),
        ("Kantor berada di Baton Rouge sejak lama.", "Le bureau est à Baton-Rouge depuis longtemps.", "fr", set()),
        # days and months (lintas.quality.dates)
        (
            "Data dirilis pada Senin (14/3) pagi.",
            "The data was released on Tuesday (14/3) morning.",
            "en",
            {"date_mismatch"},
        ),
        ("Data dirilis pada 14 Maret lalu.", "数据于5月14日发布。", "zh", {"date_mismatch"}),
        ("Data dirilis pada 14 Maret lalu.", "数据于3月14日发布。", "zh", set()),
        # numbers spelled out or with CJK units
        ("Sepuluh tahun lalu 10 orang tewas di sana.", "Dix ans plus tôt, dix personnes y sont mortes.", "fr", set()),
        ("Dana sebesar £120 juta per tahun dikumpulkan.", "年間1億2千万ポンドが集められた。", "ja", set()),
        (
            "Dana sebesar £120 juta per tahun dikumpulkan.",
            "年間1億3千万ポンドが集められた。",
            "ja",
            {"number_mismatch"},
        ),
        ("Jemaat itu pindah pada tahun 1930-an.", "会众在20世纪30年代迁出。", "zh", set()),
        ("Lebih dari 20 juta orang menonton siaran itu.", "その放送を約20万人が見た。", "ja", {"number_mismatch"}),
        ("Lebih dari 20 juta orang menonton siaran itu.", "超过2000万人观看了这次直播。", "zh", set()),
        ("Proyek itu bernilai £20 juta dan sepanjang 5 km.", "The project is worth £20m and 5 km long.", "en", set()),
        # omission and addition across sentences
        (
            "Harga beras naik tajam pekan ini. Pemerintah berjanji menambah pasokan dari gudang Bulog.",
            "Rice prices rose sharply this week.",
            "en",
            {"omission"},
        ),
        (
            "Harga beras naik tajam pekan ini di seluruh negeri.",
            "Rice prices rose sharply this week across the country. Exports were banned too.",
            "en",
            {"addition"},
        ),
        # wrong language between scripts that share characters
        ("Presiden meresmikan jalan tol baru.", "大統領が新しい高速道路を開通させた。", "zh", {"wrong_language"}),
        ("Presiden meresmikan jalan tol baru.", "总统为新的高速公路剪彩。", "ja", {"wrong_language"}),
    ],
)
def test_more_checks(source: str, target: str, lang: str, expected: set[str]) -> None:
    assert codes(source, target, lang) == expected


def test_unbalanced_quotes_is_recorded_as_info() -> None:
    flags = check_segment('"Kami siap," kata dia.', '"We are ready, he said.', "en")
    assert [(f.code, f.severity) for f in flags] == [("unbalanced_quotes", "info")]
    assert check_segment('"Kami siap," kata dia.', "We are ready, he said.", "en") == []  # dropping quotes is style


def test_count_sentences() -> None:
    from lintas.quality import count_sentences

    assert count_sentences("Dia datang. Dia pergi.", "id") == 2
    assert count_sentences("「それは届かなかった。」と彼は言った。", "ja") == 1
    assert count_sentences("他来了。他走了！", "zh") == 2
    assert count_sentences("جاء. ثم ذهب؟", "ar") == 2


def test_refusal_and_added_numbers() -> None:
    refusal = check_segment(
        "Seorang petani diserang oleh seekor babi di pasar.", "أعتذر، ولكن لا أستطيع تقديم معلومات.", "ar"
    )
    assert "refusal" in {f.code for f in refusal}
    added = check_segment(
        "Flake menjadi tokoh kunci dalam drama itu.", "Flake was a key figure in the drama on Monday (14/3).", "en"
    )
    assert [(f.code, f.severity) for f in added] == [("number_added", "info")]
