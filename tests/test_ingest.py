"""Article readers: HTML, Markdown and JSON extraction, sanitization, input checks, language check."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from lintas.errors import InputError
from lintas.ingest import (
    MAX_ARTICLE_BYTES,
    detect_format,
    detect_language,
    ensure_indonesian,
    read_article,
)
from lintas.ingest._body import split_credit
from lintas.ingest.jsonfile import SCHEMA_PATH, article_json_schema, schema_text
from lintas.text.article import Article
from lintas.text.inline import parse_inline, plain_text

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = ROOT / "lintas" / "data" / "example" / "article.html"
HEADLINE = "Kanye West: Rapper tersebut mengubah namanya menjadi Ye"
SENTENCE = "Rapper Kanye West mengubah namanya menjadi Ye."


def texts(article: Article) -> list[str]:
    return [plain_text(parse_inline(b.html or " ".join(b.items))) for b in article.body]


def html_article(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><article><h1>{HEADLINE}</h1>{body}</article></body></html>"


# --- the example and its three formats --------------------------------------------------------------


def test_example_html_fields() -> None:
    article = read_article(EXAMPLE)
    assert article.id == "kanye-west-ye"
    assert article.headline == HEADLINE
    assert article.kicker == "Musik"
    assert article.dateline == "JAKARTA"
    assert article.published_at == datetime.fromisoformat("2018-09-30T09:00:00+07:00")
    assert [b.type for b in article.body] == [
        "paragraph",
        "paragraph",
        "figure",
        "paragraph",
        "paragraph",
        "quote",
        "paragraph",
    ]
    assert article.body[0].html == SENTENCE  # dateline split off
    assert '<a href="https://twitter.com/kanyewest">Twitter</a>' in article.body[1].html
    figure = article.body[2]
    assert (figure.src, figure.alt, figure.credit) == ("images/kanye-west-ye.jpg", "Kanye West", "(Twitter/@kanyewest)")
    assert figure.html == "Rapper Kanye West, yang kini bernama Ye."
    assert article.body[5].cite == "Kanye West"
    assert "Kanye West" not in article.body[5].html
    assert any("41" in t for t in texts(article))
    assert "30 September 2018" not in " ".join(texts(article))
    ensure_indonesian(article)


def test_markdown_fixture_matches_the_html() -> None:
    article = read_article(FIXTURES / "article.md")
    html = read_article(EXAMPLE)
    assert (article.id, article.headline, article.kicker, article.dateline) == (
        "kanye-west-ye",
        HEADLINE,
        "Musik",
        "JAKARTA",
    )
    assert article.author == "Redaksi Lintas"
    assert article.tags == ["musik", "Kanye West"]
    assert article.canonical_url == "https://lintas.example/musik/kanye-west-ye"
    assert article.published_at == html.published_at
    assert article.revision == 2
    assert [b.type for b in article.body] == [b.type for b in html.body]
    assert texts(article) == texts(html)
    assert "<b>41 tahun</b>" in article.body[3].html
    figure = article.body[2]
    assert (figure.src, figure.alt, figure.html, figure.credit) == (
        "images/kanye-west-ye.jpg",
        "Kanye West",
        "Rapper Kanye West, yang kini bernama Ye.",
        "(Twitter/@kanyewest)",
    )
    assert article.body[5].cite == "Kanye West"


def test_json_fixture_matches_the_html() -> None:
    article = read_article(FIXTURES / "article.json")
    html = read_article(EXAMPLE)
    assert article.body == html.body
    assert (article.id, article.headline, article.dateline) == (html.id, html.headline, html.dateline)
    assert article.tags == ["musik", "Kanye West"]


def test_markdown_headline_from_first_heading_and_defaults() -> None:
    article = read_article("# Judul Berita\n\nParagraf pertama.\n\n## Subjudul\n\n- satu\n- dua\n", "md")
    assert article.headline == "Judul Berita"
    assert article.id == "judul-berita"
    assert [(b.type, b.html, b.items) for b in article.body] == [
        ("paragraph", "Paragraf pertama.", []),
        ("heading", "Subjudul", []),
        ("list", "", ["satu", "dua"]),
    ]


def test_markdown_front_matter_title_and_string_tags() -> None:
    text = "---\ntitle: Judul Lain\ntags: ekonomi, pasar\ndate: 2024-05-01\nlayout: post\n---\nIsi berita.\n"
    article = read_article(text)
    assert (article.headline, article.tags) == ("Judul Lain", ["ekonomi", "pasar"])
    assert article.published_at == datetime(2024, 5, 1)


def test_markdown_image_title_is_caption() -> None:
    article = read_article(
        '# Judul\n\nTeks.\n\n![Banjir](https://x.id/a.jpg "Banjir di Jakarta (Foto: ANTARA/Budi)")\n'
    )
    figure = article.body[1]
    assert (figure.type, figure.alt, figure.html, figure.credit) == (
        "figure",
        "Banjir",
        "Banjir di Jakarta",
        "(Foto: ANTARA/Budi)",
    )


# --- HTML metadata ----------------------------------------------------------------------------------


FULL_PAGE = """<!doctype html><html><head>
<title>Harga Beras Naik - Kabar Kita</title>
<meta property="og:title" content="Harga Beras Naik">
<meta property="og:site_name" content="Kabar Kita">
<meta name="author" content="Budi Santoso">
<meta name="keywords" content="ekonomi, beras , pangan">
<meta property="article:published_time" content="2024-03-01T08:00:00+07:00">
<meta property="article:modified_time" content="2024-03-01T10:30:00Z">
<link rel="canonical" href="https://kabar.example/ekonomi/harga-beras-naik.html">
<script>var tracking = 1;</script><style>p { color: red }</style>
</head><body>
<nav><p>Beranda | Ekonomi</p></nav>
<main>
  <h2 class="subtitle">Pemerintah menyiapkan operasi pasar</h2>
  <p class="byline">Oleh: Budi Santoso</p>
  <p><span class="dateline">SURABAYA</span> - Harga beras naik 10 persen pekan ini.</p>
  <p>&nbsp;</p>
  <p>Baca juga: <a href="/x">Berita lain</a></p>
  <h3>Operasi pasar</h3>
  <ol><li>Beras medium</li><li>Beras <b>premium</b></li></ol>
  <aside><p>Iklan</p></aside>
  <form><p>Langganan</p></form>
  <ul class="tags"><li><a rel="tag" href="/t/ekonomi">ekonomi</a></li></ul>
</main>
<footer><p>Hak cipta</p></footer>
</body></html>"""


def test_full_page_metadata() -> None:
    article = read_article(FULL_PAGE.encode())
    assert article.headline == "Harga Beras Naik"  # og:title, no <h1>
    assert article.subheadline == "Pemerintah menyiapkan operasi pasar"
    assert article.author == "Budi Santoso"
    assert article.tags == ["ekonomi", "beras", "pangan"]
    assert article.canonical_url == "https://kabar.example/ekonomi/harga-beras-naik.html"
    assert article.id == "harga-beras-naik"
    assert article.dateline == "SURABAYA"
    assert article.published_at == datetime.fromisoformat("2024-03-01T08:00:00+07:00")
    assert article.updated_at == datetime.fromisoformat("2024-03-01T10:30:00+00:00")
    assert [(b.type, b.html or b.items) for b in article.body] == [
        ("paragraph", "Harga beras naik 10 persen pekan ini."),
        ("heading", "Operasi pasar"),
        ("list", ["Beras medium", "Beras <b>premium</b>"]),
    ]
    assert article.body[2].ordered


def test_title_fallback_strips_site_name_and_meta_id() -> None:
    page = (
        '<html><head><title>Gempa di Palu | Kabar Kita</title><meta property="og:site_name" '
        'content="Kabar Kita"><meta name="lintas:id" content="gempa-palu-01"></head>'
        "<body><p>Gempa mengguncang Palu.</p></body></html>"
    )
    article = read_article(page)
    assert (article.headline, article.id) == ("Gempa di Palu", "gempa-palu-01")
    assert read_article(page, article_id="lain").id == "lain"


def test_time_elements_and_rel_author() -> None:
    body = (
        '<p>Oleh <a rel="author" href="/a/siti">Siti Aminah</a></p>'
        '<p><time datetime="2024-01-02T03:04:05+07:00">2 Januari</time></p>'
        '<time class="updated" datetime="2024-01-03T00:00:00+07:00">3 Januari</time>'
        "<p>Isi berita di sini.</p>"
    )
    article = read_article(html_article(body))
    assert article.author == "Siti Aminah"
    assert article.published_at == datetime.fromisoformat("2024-01-02T03:04:05+07:00")
    assert article.updated_at == datetime.fromisoformat("2024-01-03T00:00:00+07:00")
    assert texts(article) == ["Isi berita di sini."]


def test_loose_text_and_image_link_become_blocks() -> None:
    body = '<div>Baris pertama <b>tebal</b>.<br><br>Baris kedua.</div><a href="/foto"><img src="/a.jpg" alt="A"></a>'
    article = read_article(html_article(body))
    assert [(b.type, b.html) for b in article.body] == [
        ("paragraph", "Baris pertama <b>tebal</b>."),
        ("paragraph", "Baris kedua."),
        ("figure", ""),
    ]
    assert article.body[2].src == "/a.jpg"


def test_malformed_html_still_parses() -> None:
    article = read_article(FIXTURES / "malformed.html")
    assert article.headline == HEADLINE
    assert article.dateline == "JAKARTA"
    assert texts(article)[:2] == [SENTENCE, "Dia salah satu dari sejumlah rapper yang mengubah nama mereka."]
    assert article.body[-1].items == ["Yandhi", "Ye"]


# --- sanitization -----------------------------------------------------------------------------------


def test_html_is_sanitized() -> None:
    body = (
        '<p>Teks <script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">tautan</a> '
        '<img src="x" onerror="alert(3)"><i style="color:red">miring</i></p>'
        '<p><script>document.write("x")</script></p><iframe src="https://evil.example"></iframe>'
        "<ul><li onmouseover=\"x()\"><a href='https://ok.example'>aman</a></li></ul>"
    )
    article = read_article(html_article(body))
    dumped = article.model_dump_json()
    for bad in ("script", "alert", "javascript:", "onerror", "onclick", "onmouseover", "style", "iframe", "evil"):
        assert bad not in dumped
    assert article.body[0].html == "Teks tautan <i>miring</i>"
    assert article.body[1].items == ['<a href="https://ok.example">aman</a>']


def test_json_and_markdown_are_sanitized_too() -> None:
    data = {
        "id": "x",
        "headline": "Judul",
        "body": [
            {"type": "paragraph", "html": 'A <script>alert(1)</script><a href="javascript:x()">b</a>'},
            {"type": "list", "items": ["<b onclick='x()'>c</b>"]},
        ],
    }
    article = read_article(json.dumps(data))
    assert [b.html or b.items for b in article.body] == ["A b", ["<b>c</b>"]]
    md = read_article('# Judul\n\nTeks <img src=x onerror="alert(1)"> [klik](javascript:alert(1)) aman.\n')
    assert md.body[0].html.startswith("Teks")
    for bad in ("onerror", "<img", 'href="javascript'):
        assert bad not in md.body[0].html


# --- datelines and credits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "dateline", "rest"),
    [
        ("JAKARTA - Harga naik.", "JAKARTA", "Harga naik."),
        ("JAKARTA – Harga naik.", "JAKARTA", "Harga naik."),
        ("JAKARTA, KOMPAS.com - Harga naik.", "JAKARTA, KOMPAS.com", "Harga naik."),
        ("JAKARTA (ANTARA) - Harga naik.", "JAKARTA (ANTARA)", "Harga naik."),
        ("KUALA LUMPUR — Harga naik.", "KUALA LUMPUR", "Harga naik."),
        ("<b>BANDUNG</b> - Harga <i>naik</i>.", "BANDUNG", "Harga <i>naik</i>."),
        ("Harga naik - kata pejabat.", None, "Harga naik - kata pejabat."),
        ("Jakarta - Harga naik.", None, "Jakarta - Harga naik."),
    ],
)
def test_dateline_split(first: str, dateline: str | None, rest: str) -> None:
    article = read_article(html_article(f"<p>{first}</p><p>Paragraf dua.</p>"))
    assert article.dateline == dateline
    assert article.body[0].html == rest


@pytest.mark.parametrize(
    ("caption", "kept", "credit"),
    [
        ("Zhao Lijian. (Twitter/@zlj517)", "Zhao Lijian.", "(Twitter/@zlj517)"),
        ("Banjir <b>besar</b> (Foto: ANTARA/Budi)", "Banjir <b>besar</b>", "(Foto: ANTARA/Budi)"),
        ("Presiden (kiri) dan wakilnya (kanan)", "Presiden (kiri) dan wakilnya (kanan)", None),
        ("Tanpa kredit", "Tanpa kredit", None),
    ],
)
def test_split_credit(caption: str, kept: str, credit: str | None) -> None:
    assert split_credit(caption) == (kept, credit)


def test_figure_credit_element() -> None:
    body = (
        '<p>Teks.</p><figure><img data-src="/b.jpg" alt="B"><figcaption>Warga mengungsi '
        '<span class="photo-credit">REUTERS/Ali</span></figcaption></figure>'
    )
    figure = read_article(html_article(body)).body[1]
    assert (figure.src, figure.html, figure.credit) == ("/b.jpg", "Warga mengungsi", "REUTERS/Ali")


# --- input checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("empty.html", "is empty"),
        ("whitespace.md", "is empty"),
        ("binary.bin", "binary"),
        ("malformed.json", "line 6, column 3"),
        ("invalid.json", "field 'body[1].type'"),
        ("no_headline.html", "no headline"),
        ("does-not-exist.html", "file not found"),
    ],
)
def test_bad_fixtures(name: str, needle: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        read_article(FIXTURES / name)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("source", "fmt", "needle"),
    [
        (b"teks \xc3\x28 teks", None, "not valid UTF-8"),
        ("\x01\x02\x03\x04\x05\x06 teks \x07\x08\x0b\x0e", None, "does not look like text"),
        ('{"id": "x"}', None, "field 'headline': required field is missing"),
        ('{"id": "x", "headline": "J", "extra": 1}', None, "field 'extra': unknown field"),
        ('{"id": "x", "headline": "J", "revision": "dua"}', None, "field 'revision'"),
        ("[1, 2]", "json", "must be an object"),
        ("<html><body><h1>Judul</h1><nav><p>menu</p></nav></body></html>", None, "no article body"),
        ("---\ntitle: [tidak ditutup\n---\nIsi.\n", None, "not valid YAML"),
        ("---\ntitle: Judul\n---\n", None, "no article body"),
        ("---\ntitle: Judul\npublished_at: kemarin\n---\nIsi.\n", None, "field 'published_at'"),
        ("---\n- satu\n- dua\n---\n# Judul\n\nIsi.\n", None, "front matter"),
        ("Hanya paragraf tanpa judul.", None, "no headline"),
        ("# Judul\n\nIsi.", "docx", "unknown article format"),
        ("missing/article.md", None, "file not found"),
    ],
)
def test_bad_inputs(source: str | bytes, fmt: str | None, needle: str) -> None:
    with pytest.raises(InputError) as info:
        read_article(source, fmt)
    assert needle in str(info.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory"):
        read_article(tmp_path)


def test_size_limits(tmp_path: Path) -> None:
    assert MAX_ARTICLE_BYTES == 2 * 1024 * 1024
    paragraph = read_article(EXAMPLE).body[3].html
    chunk = f'<p>{paragraph}</p>\n<p>JAKARTA, <a href="https://x.id">tautan</a> <b>{SENTENCE}</b></p>\n'
    big = html_article(chunk * (1_000_000 // len(chunk)))
    assert 950_000 < len(big.encode()) < MAX_ARTICLE_BYTES
    path = tmp_path / "besar.html"
    path.write_text(big, encoding="utf-8")
    start = time.perf_counter()
    article = read_article(path)
    assert time.perf_counter() - start < 30  # about 1-2 s; generous for loaded CI machines
    assert len(article.body) > 3000
    ensure_indonesian(article)
    huge = big * 3
    with pytest.raises(InputError, match=r"too large: 2\.9 MiB \(limit 2\.0 MiB\)"):
        read_article(huge)
    with pytest.raises(InputError, match="too large"):
        read_article(huge.encode())
    path.write_text(huge, encoding="utf-8")
    with pytest.raises(InputError, match="too large"):
        read_article(path)


# --- format detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('  {"id": "x"}', "json"),
        ("---\ntitle: x\n---\n", "markdown"),
        ("<article><h1>x</h1></article>", "html"),
        ("Teks <p>biasa</p>", "html"),
        ("# Judul\n\nTeks", "markdown"),
    ],
)
def test_detect_format(text: str, fmt: str) -> None:
    assert detect_format(text) == fmt


def test_format_from_extension_wins(tmp_path: Path) -> None:
    path = tmp_path / "berita.md"
    path.write_text("<h1>Judul</h1>\n\nIsi berita.\n", encoding="utf-8")
    assert detect_format(path.read_text(), path) == "markdown"
    assert read_article(str(path)).headline == "Judul"
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeff# Judul\n\nIsi.\n".encode())
    assert read_article(bom).headline == "Judul"


# --- language ---------------------------------------------------------------------------------------


def test_language_detection_and_check() -> None:
    code, prob = detect_language("Pemerintah Indonesia menaikkan harga bahan bakar minyak mulai pekan depan.")
    assert code in ("id", "ms") and 0 < prob <= 1
    english = read_article(FIXTURES / "english.html")
    with pytest.raises(InputError, match=r"looks like English \(en\), not Indonesian"):
        ensure_indonesian(english)
    french = Article(id="fr", headline="Le gouvernement français annonce une nouvelle réforme des retraites", body=[])
    with pytest.raises(InputError, match=r"looks like French \(fr\)"):
        ensure_indonesian(french)
    malay = read_article(
        "# Kerajaan umum bantuan\n\nKerajaan Malaysia akan melaksanakan dasar baharu untuk "
        "membantu rakyat yang terjejas akibat banjir di negeri-negeri pantai timur."
    )
    ensure_indonesian(malay)
    ensure_indonesian(Article(id="s", headline="Hello world", body=[]))  # too short to judge


# --- JSON Schema ------------------------------------------------------------------------------------


def test_schema_file_in_sync_with_model() -> None:
    schema = article_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["$id"] and schema["title"] and schema["description"]
    assert set(schema["properties"]) == set(Article.model_fields)
    assert SCHEMA_PATH == ROOT / "schema" / "article.schema.json"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "schema/article.schema.json is stale: run "
        "python -c 'from lintas.ingest.jsonfile import write_article_schema; write_article_schema()'"
    )
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == schema
