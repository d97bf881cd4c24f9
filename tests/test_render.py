"""Publishing editions: the HTML page (checked with a real parser) and the JSON form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from lintas.publish.render import (
    edition_to_json,
    render_edition_html,
    render_source_html,
    safe_basename,
    safe_url,
    source_filename,
    write_edition,
    write_source,
)
from lintas.text.article import Article, Block, Edition, Flag, SegmentAlignment
from lintas.text.languages import LANGUAGES

WIB = timezone(timedelta(hours=7))
ORIGINAL = "https://example.id/2024/05/01/banjir-jakarta"
EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">klik</a>'

TEXTS = {
    "en": {
        "kicker": "Weather",
        "headline": "Floods hit Jakarta",
        "sub": "Thousands evacuated",
        "dateline": "JAKARTA, Lintas",
        "p1": 'Heavy rain <b>flooded</b> the city, said <a href="https://bmkg.go.id/">BMKG</a>.',
        "h": "What happens next",
        "quote": "We are <i>ready</i>.",
        "cite": "Governor",
        "items": ["Stay <b>indoors</b>", 'Call <a href="tel:112">112</a>'],
        "caption": "Water in Kampung Melayu",
        "p2": "More rain is expected.",
        "tags": ["flood", "Jakarta"],
    },
    "zh": {
        "kicker": "天气",
        "headline": "雅加达遭遇洪水",
        "sub": "数千人被疏散",
        "dateline": "雅加达 Lintas 讯",
        "p1": '暴雨<b>淹没</b>了城市。据<a href="https://bmkg.go.id/">气象局</a>表示。',
        "h": "接下来会怎样",
        "quote": "我们已<i>准备好</i>。",
        "cite": "省长",
        "items": ["请<b>留在室内</b>", '拨打<a href="tel:112">112</a>'],
        "caption": "甘榜马来的积水",
        "p2": "预计还会有更多降雨。",
        "tags": ["洪水", "雅加达"],
    },
    "ar": {
        "kicker": "الطقس",
        "headline": "فيضانات تضرب جاكرتا",
        "sub": "إجلاء الآلاف",
        "dateline": "جاكرتا، Lintas",
        "p1": 'أغرقت الأمطار الغزيرة <b>المدينة</b>، بحسب <a href="https://bmkg.go.id/">الوكالة</a>.',
        "h": "ماذا بعد",
        "quote": "نحن <i>مستعدون</i>.",
        "cite": "المحافظ",
        "items": ["ابقوا <b>في المنازل</b>", 'اتصلوا <a href="tel:112">112</a>'],
        "caption": "المياه في كامبونغ ملايو",
        "p2": "من المتوقع هطول المزيد من الأمطار.",
        "tags": ["فيضان", "جاكرتا"],
    },
}

CREDIT = "(Twitter/@zlj517)"
IMAGE = "https://img.example.id/banjir.jpg"


def make_edition(lang: str, **overrides: object) -> Edition:
    t = TEXTS[lang]
    data: dict[str, object] = {
        "id": "2024-05-01-banjir-jakarta",
        "headline": t["headline"],
        "kicker": t["kicker"],
        "subheadline": t["sub"],
        "dateline": t["dateline"],
        "author": "Siti Rahma",
        "tags": t["tags"],
        "canonical_url": ORIGINAL,
        "published_at": datetime(2024, 5, 1, 14, 30, tzinfo=WIB),
        "body": [
            Block(type="paragraph", html=str(t["p1"])),
            Block(type="heading", html=str(t["h"])),
            Block(type="quote", html=str(t["quote"]), cite=str(t["cite"])),
            Block(type="list", items=list(t["items"]), ordered=False),
            Block(type="figure", src=IMAGE, alt=str(t["caption"]), html=str(t["caption"]), credit=CREDIT),
            Block(type="list", items=["one", "two"], ordered=True),
            Block(type="paragraph", html=str(t["p2"])),
        ],
        "target_lang": lang,
        "engine": "fake",
        "model": "fake-1",
        "created_at": datetime(2024, 5, 1, 15, 0, tzinfo=UTC),
        "segments": [
            SegmentAlignment(
                id="headline",
                source="Banjir melanda Jakarta",
                target=str(t["headline"]),
                flags=[Flag(code="x", severity="info", message="m")],
            )
        ],
        "signature": "sha256:abc123",
    }
    data.update(overrides)
    return Edition.model_validate(data)


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def body_children(soup: BeautifulSoup) -> list[Tag]:
    article = soup.find("article")
    assert isinstance(article, Tag)
    return [child for child in article.children if isinstance(child, Tag) and child.name != "header"]


@pytest.mark.parametrize("lang,direction", [("en", "ltr"), ("zh", "ltr"), ("ar", "rtl")])
def test_page_structure(lang: str, direction: str) -> None:
    edition = make_edition(lang)
    html = render_edition_html(edition, original_href="banjir.id.html")
    assert html.lstrip().lower().startswith("<!doctype html>")
    soup = soup_of(html)
    t = TEXTS[lang]

    root = soup.find("html")
    assert isinstance(root, Tag)
    assert root["lang"] == lang
    assert root["dir"] == direction
    assert soup.find("meta", attrs={"charset": True})["charset"].lower() == "utf-8"  # type: ignore[index]
    assert "width=device-width" in soup.find("meta", attrs={"name": "viewport"})["content"]  # type: ignore[index,operator]
    assert soup.title is not None and soup.title.get_text() == t["headline"]
    alternate = soup.find("link", attrs={"rel": "alternate"})
    assert isinstance(alternate, Tag)
    assert alternate["hreflang"] == "id" and alternate["href"] == "banjir.id.html"

    generator = soup.find("meta", attrs={"name": "generator"})
    assert isinstance(generator, Tag)
    assert "fake" in generator["content"] and "fake-1" in generator["content"]
    assert "sha256:abc123" in generator["content"]
    signature = soup.find("meta", attrs={"name": "lintas-signature"})
    assert isinstance(signature, Tag) and signature["content"] == "sha256:abc123"

    header = soup.find("header")
    assert isinstance(header, Tag)
    assert header.find(class_="kicker").get_text() == t["kicker"]  # type: ignore[union-attr]
    h1s = soup.find_all("h1")
    assert len(h1s) == 1 and h1s[0].get_text() == t["headline"]
    assert header.find(class_="subheadline").get_text() == t["sub"]  # type: ignore[union-attr]
    assert header.find(class_="author").get_text() == "Siti Rahma"  # type: ignore[union-attr]
    time = header.find("time")
    assert isinstance(time, Tag)
    assert datetime.fromisoformat(str(time["datetime"])) == edition.published_at

    blocks = body_children(soup)
    names = [tag.name for tag in blocks]
    assert names == ["p", "h2", "blockquote", "ul", "figure", "ol", "p", "ul"]

    first = blocks[0]
    dateline = first.find("b", class_="dateline")
    assert isinstance(dateline, Tag)
    assert dateline.get_text() == t["dateline"]
    assert first.contents[0] is dateline  # the dateline opens the first paragraph
    assert first.find("b", class_=False).get_text() == BeautifulSoup(str(t["p1"]), "html.parser").b.get_text()  # type: ignore[union-attr]
    assert first.find("a")["href"] == "https://bmkg.go.id/"  # type: ignore[index]

    assert blocks[1].get_text() == t["h"]
    assert blocks[2].find("i") is not None
    assert blocks[2].find("cite").get_text() == t["cite"]  # type: ignore[union-attr]
    items = blocks[3].find_all("li")
    assert [li.get_text() for li in items] == [BeautifulSoup(item, "html.parser").get_text() for item in t["items"]]
    assert items[1].find("a")["href"] == "tel:112"

    figure = blocks[4]
    img = figure.find("img")
    assert isinstance(img, Tag)
    assert img["src"] == IMAGE and img["alt"] == t["caption"] and img["loading"] == "lazy"
    caption = figure.find("figcaption")
    assert isinstance(caption, Tag)
    assert t["caption"] in caption.get_text()
    credit = caption.find("span", class_="credit")
    assert isinstance(credit, Tag) and credit.get_text() == CREDIT

    assert [li.get_text() for li in blocks[5].find_all("li")] == ["one", "two"]
    assert blocks[6].get_text() == t["p2"]
    assert blocks[7].get("class") == ["tags"]
    assert [li.get_text() for li in blocks[7].find_all("li")] == t["tags"]

    # the notice, in the edition's language, closes the page and links to the original
    main = soup.find("main")
    assert isinstance(main, Tag)
    last = [child for child in main.children if isinstance(child, Tag)][-1]
    assert last.name == "aside" and last["role"] == "note" and "mt-notice" in last["class"]
    assert LANGUAGES[lang].notice in last.get_text()
    link = last.find("a")
    assert isinstance(link, Tag)
    assert link["href"] == "banjir.id.html"
    assert link.get_text() == LANGUAGES[lang].original_label
    assert len(soup.find_all("aside")) == 1


def test_css_per_language() -> None:
    zh = soup_of(render_edition_html(make_edition("zh"))).style.get_text()  # type: ignore[union-attr]
    assert "line-break: strict" in zh and "word-break: normal" in zh and "overflow-wrap: anywhere" in zh
    assert "'Noto Sans CJK SC'" in zh
    en = soup_of(render_edition_html(make_edition("en"))).style.get_text()  # type: ignore[union-attr]
    assert "line-break: strict" not in en
    assert "margin-inline-start" in en or "padding-inline-start" in en
    ar = soup_of(render_edition_html(make_edition("ar"))).style.get_text()  # type: ignore[union-attr]
    assert "'Noto Naskh Arabic'" in ar and "&#39;" not in ar


def test_original_link_falls_back_to_canonical_or_is_omitted() -> None:
    soup = soup_of(render_edition_html(make_edition("en")))
    aside = soup.find("aside", class_="mt-notice")
    assert isinstance(aside, Tag)
    assert aside.find("a")["href"] == ORIGINAL  # type: ignore[index]
    assert soup.find("link", attrs={"rel": "alternate"})["href"] == ORIGINAL  # type: ignore[index]

    soup = soup_of(render_edition_html(make_edition("en", canonical_url=None)))
    aside = soup.find("aside", class_="mt-notice")
    assert isinstance(aside, Tag)
    assert LANGUAGES["en"].notice in aside.get_text()
    assert aside.find("a") is None
    assert soup.find("link", attrs={"rel": "alternate"}) is None

    soup = soup_of(render_edition_html(make_edition("en"), original_href="javascript:alert(1)"))
    assert soup.find("a", href=lambda h: h is not None and "javascript" in h.lower()) is None


def assert_inert(soup: BeautifulSoup) -> None:
    assert soup.find("script") is None
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (tag.name, name)
            values = value if isinstance(value, list) else [value]
            for item in values:
                assert "javascript:" not in str(item).lower().replace(" ", ""), (tag.name, name, item)
    img = soup.find_all("img")
    assert all(i["src"] in (IMAGE, "pic.jpg") for i in img)
    # only the tags the template writes, plus the inline subset
    allowed = {
        "html",
        "head",
        "meta",
        "title",
        "link",
        "style",
        "body",
        "main",
        "article",
        "header",
        "p",
        "h1",
        "h2",
        "span",
        "time",
        "b",
        "i",
        "a",
        "br",
        "blockquote",
        "cite",
        "ul",
        "ol",
        "li",
        "figure",
        "img",
        "figcaption",
        "aside",
    }
    assert {tag.name for tag in soup.find_all(True)} <= allowed


def test_hostile_content_never_becomes_markup() -> None:
    body = [
        Block(type="paragraph", html=f"Awal {EVIL} akhir"),
        Block(type="heading", html=EVIL),
        Block(type="quote", html=EVIL, cite=EVIL),
        Block(type="list", items=[EVIL, "ok"]),
        Block(type="figure", src="javascript:alert(4)", alt=EVIL, html=EVIL, credit=EVIL),
        Block(type="figure", src=" jav\tascript:alert(5)", html="cap"),
        Block(type="figure", src="data:image/svg+xml,<svg onload=alert(6)>", html="cap2"),
        Block(type="figure", src="pic.jpg", alt='"><script>alert(7)</script>', html="rel"),
        Block(type="paragraph", html='<a href="JaVaScRiPt:alert(8)" onclick="x">a</a><iframe src="x"></iframe>'),
    ]
    edition = make_edition(
        "en",
        headline=EVIL,
        kicker=EVIL,
        subheadline=EVIL,
        dateline=EVIL,
        author=EVIL,
        tags=[EVIL],
        body=body,
        engine='"><script>alert(9)</script>',
        signature="</style><script>alert(10)</script>",
    )
    html = render_edition_html(edition, original_href='" onmouseover="alert(11)')
    soup = soup_of(html)
    assert_inert(soup)
    # the hostile text is still there, as text
    assert soup.find("h1").get_text() == EVIL  # type: ignore[union-attr]
    assert soup.title.get_text() == EVIL  # type: ignore[union-attr]
    assert soup.find(class_="author").get_text() == EVIL  # type: ignore[union-attr]
    assert soup.find(class_="credit").get_text() == EVIL  # type: ignore[union-attr]
    assert soup.find("ul", class_="tags").li.get_text() == EVIL  # type: ignore[union-attr]
    assert soup.find("b", class_="dateline").get_text() == EVIL  # type: ignore[union-attr]
    # block inline HTML is sanitized: the link text survives, the javascript: target does not
    assert "klik" in soup.find("h2").get_text()  # type: ignore[union-attr]
    figures = soup.find_all("figure")
    assert [f.find("img") is not None for f in figures] == [False, False, False, True]
    assert figures[3].img["src"] == "pic.jpg"  # type: ignore[index]
    assert figures[3].img["alt"] == '"><script>alert(7)</script>'  # type: ignore[index]
    # the same holds for the original's page
    assert_inert(soup_of(render_source_html(Article.model_validate(edition.model_dump(exclude=_EDITION_ONLY)))))


_EDITION_ONLY = set(Edition.model_fields) - set(Article.model_fields)


def test_source_page() -> None:
    edition = make_edition("en")
    article = Article(
        id=edition.id,
        headline="Banjir melanda Jakarta",
        dateline="JAKARTA, Lintas -",
        body=[Block(type="paragraph", html="Hujan deras <b>merendam</b> kota.")],
        canonical_url=ORIGINAL,
        tags=["banjir"],
    )
    soup = soup_of(render_source_html(article))
    root = soup.find("html")
    assert isinstance(root, Tag)
    assert root["lang"] == "id" and root["dir"] == "ltr"
    assert soup.find("aside", class_="mt-notice") is None
    assert soup.find(attrs={"role": "note"}) is None
    assert soup.find("meta", attrs={"name": "lintas-signature"}) is None
    first = soup.find("article").find("p")  # type: ignore[union-attr]
    assert first.b.get_text() == "JAKARTA, Lintas -"  # type: ignore[union-attr]
    assert first.get_text() == "JAKARTA, Lintas - Hujan deras merendam kota."  # type: ignore[union-attr]
    link = soup.find("aside").find("a")  # type: ignore[union-attr]
    assert link["href"] == ORIGINAL and link.get_text() == LANGUAGES["id"].original_label  # type: ignore[index,union-attr]


def test_dateline_without_paragraph() -> None:
    edition = make_edition("en", body=[Block(type="heading", html="Only a heading")])
    blocks = body_children(soup_of(render_edition_html(edition)))
    assert [b.name for b in blocks][:2] == ["p", "h2"]
    assert blocks[0].get_text() == TEXTS["en"]["dateline"]


@pytest.mark.parametrize("lang", ["en", "zh", "ar"])
def test_json_round_trip(lang: str) -> None:
    edition = make_edition(lang)
    text = edition_to_json(edition)
    assert Edition.model_validate_json(text) == edition
    assert TEXTS[lang]["headline"] in text  # not ASCII-escaped
    assert json.loads(text)["target_lang"] == lang
    assert text.startswith('{\n  "')


def test_write_edition(tmp_path: Path) -> None:
    edition = make_edition("zh")
    paths = write_edition(edition, tmp_path / "out", original_href=source_filename(edition.id))
    assert [p.name for p in paths] == [
        "2024-05-01-banjir-jakarta.zh.json",
        "2024-05-01-banjir-jakarta.zh.html",
    ]
    assert Edition.model_validate_json(paths[0].read_text(encoding="utf-8")) == edition
    soup = soup_of(paths[1].read_text(encoding="utf-8"))
    assert soup.find("aside").find("a")["href"] == "2024-05-01-banjir-jakarta.id.html"  # type: ignore[index,union-attr]
    source = write_source(Article(id=edition.id, headline="Banjir"), tmp_path / "out")
    assert source.name == "2024-05-01-banjir-jakarta.id.html"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([paths[0].name, paths[1].name, source.name])


def test_unsafe_ids_are_slugified(tmp_path: Path) -> None:
    edition = make_edition("en", id="../../etc/Passwd Ünïcode")
    paths = write_edition(edition, tmp_path)
    for path in paths:
        assert path.parent == tmp_path
        assert path.name.startswith("etc-passwd-unicode-")
    assert safe_basename("a/b") != safe_basename("a-b")
    assert safe_basename("ABC") != safe_basename("abc")
    assert safe_basename("..") not in ("", ".", "..")
    assert safe_basename("berita.123") == "berita.123"
    assert "/" not in safe_basename("雅加达") and safe_basename("雅加达")


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://x.id/a.jpg", True),
        ("http://x.id/a.jpg", True),
        ("//cdn.x.id/a.jpg", True),
        ("/img/a.jpg", True),
        ("a.jpg", True),
        ("../a.jpg?x=1:2", True),
        ("javascript:alert(1)", False),
        (" JAVASCRIPT:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("vbscript:x", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_status_and_confidence_are_on_the_page() -> None:
    published = soup_of(render_edition_html(make_edition("en", confidence=0.874)))
    assert published.find("meta", attrs={"name": "lintas-status"})["content"] == "published"  # type: ignore[index]
    assert published.find("meta", attrs={"name": "lintas-confidence"})["content"] == "0.87"  # type: ignore[index]
    assert published.find(class_="held") is None
    held = soup_of(render_edition_html(make_edition("ar", status="held", confidence=0.4)))
    banner = held.find(class_="held")
    assert banner is not None and "not for publication" in banner.get_text() and banner["dir"] == "ltr"
