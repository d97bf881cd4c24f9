"""Tests for the named day and month check (lintas.quality.dates)."""

from __future__ import annotations

import pytest

from lintas.quality.dates import missing_dates, source_dates, target_dates


@pytest.mark.parametrize(
    ("source", "target", "lang", "expected"),
    [
        # English
        ("Senin (14/3)", "Monday (14/3)", "en", []),
        ("Senin (14/3)", "Tuesday (14/3)", "en", ["Senin"]),
        ("pada 14 Maret 2021", "on March 14, 2021", "en", []),
        ("pada 14 Maret 2021", "on May 14, 2021", "en", ["Maret"]),
        ("pada 14 Maret 2021", "on 14/3/2021", "en", []),
        ("pada 14 Maret 2021", "on 2021-03-14", "en", []),
        ("pada 14 Maret 2021", "on 3/14/2021", "en", []),
        ("pada 14 Maret 2021", "on 2021-05-14", "en", ["Maret"]),
        ("14 Okt 2020", "Oct. 14, 2020", "en", []),
        ("pada bulan Sept.", "in Sept.", "en", []),
        ("Senin dan Selasa", "Mon. and Tues.", "en", []),
        ("Senin dan Selasa", "Monday and Wednesday", "en", ["Selasa"]),
        ("Jum'at pagi", "Friday morning", "en", []),
        ("Jum’at pagi", "on Saturday morning", "en", ["Jum’at"]),
        ("pada bulan Mei", "in May", "en", []),
        ("pada bulan Mei", "you may go", "en", ["Mei"]),
        # Chinese
        ("14 Maret", "3月14日", "zh", []),
        ("14 Maret", "5月14日", "zh", ["Maret"]),
        ("14 Maret", "３月１４日", "zh", []),
        ("14 Maret", "三月十四日", "zh", []),
        ("14 Desember", "十二月十四日", "zh", []),
        ("14 Februari", "十二月十四日", "zh", ["Februari"]),
        ("pada hari Minggu", "周日", "zh", []),
        ("pada hari Minggu", "星期天", "zh", []),
        ("pada hari Rabu", "礼拜三", "zh", []),
        ("pada hari Rabu", "星期四", "zh", ["Rabu"]),
        # Japanese
        ("Rabu (14/3)", "3月14日（水）", "ja", []),
        ("Rabu (14/3)", "3月14日（木）", "ja", ["Rabu"]),
        ("pada hari Kamis", "木曜日に", "ja", []),
        ("pada hari Kamis", "金曜に", "ja", ["Kamis"]),
        ("pada bulan Juni", "６月に", "ja", []),
        ("pada bulan Juni", "7月に", "ja", ["Juni"]),
        # Arabic
        ("pada hari Jumat", "وفي يوم الجمعة", "ar", []),
        ("pada hari Jumat", "وبالجمعة قال", "ar", []),
        ("pada hari Jumat", "يوم السبت", "ar", ["Jumat"]),
        ("pada hari Senin", "يوم الإثنين", "ar", []),
        ("pada hari Senin", "يوم الاثنين", "ar", []),
        ("pada hari Minggu", "والأحد", "ar", []),
        ("pada hari Minggu", "الأحداث الأخيرة", "ar", ["Minggu"]),
        ("pada bulan Agustus", "وفي أغسطس", "ar", []),
        ("pada bulan Agustus", "في آب", "ar", []),
        ("pada bulan Juli", "فييوليو/ تموزمشيرًا", "ar", []),  # run-together words
        ("pada bulan Oktober", "في تشرين الأول", "ar", []),
        ("pada bulan Oktober", "في تشرين الثاني", "ar", ["Oktober"]),
        ("pada 14 Maret", "في ١٤/٣", "ar", []),
        ("pada bulan Maret", "في مايو", "ar", ["Maret"]),
        # French
        ("pada Februari dan Desember", "en février et en décembre", "fr", []),
        ("pada Februari dan Desember", "en fevrier et en decembre", "fr", []),
        ("pada Februari dan Desember", "en février et en novembre", "fr", ["Desember"]),
        ("pada bulan Agustus", "en août", "fr", []),
        ("pada bulan Agustus", "en aout", "fr", []),
        ("pada hari Sabtu", "samedi", "fr", []),
        ("pada hari Sabtu", "dimanche", "fr", ["Sabtu"]),
        # a weekday rendered as the calendar date the source does not give is accepted
        ("pada hari Jumat", "le 28 septembre", "fr", []),
        ("pada hari Jumat, 28 September", "le 28 septembre", "fr", ["Jumat"]),
        # inline tags are stripped
        ('<b>Senin</b> <a href="#1">14 Maret</a>', '<b>Monday</b>, <a href="#1">March 14</a>', "en", []),
        ('<b>Senin</b> <a href="#1">14 Maret</a>', '<b>Tuesday</b>, <a href="#1">May 14</a>', "en", ["Senin", "Maret"]),
        ('<a href="#Senin">pergi</a>', "<a href='#Senin'>went</a>", "en", []),
        # duplicates: the same month twice needs one mention, two months need both
        ("dari Maret sampai Maret", "in March", "en", []),
        ("dari Maret sampai Mei 2021", "from March to May 2021", "en", []),
        ("dari Maret sampai Mei 2021", "from March 2021", "en", ["Mei"]),
        # no day or month in the source
        ("Presiden meresmikan jalan tol.", "The president opened a toll road.", "en", []),
    ],
)
def test_missing_dates(source: str, target: str, lang: str, expected: list[str]) -> None:
    assert missing_dates(source, target, lang) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("minggu lalu", []),
        ("Minggu lalu, polisi menangkap tersangka.", []),
        ("dalam dua minggu terakhir", []),
        ("selama beberapa Minggu", []),
        ("dalam sebuah wawancara pada hari minggu ini", []),
        ("pada hari Minggu", [("Minggu", "d7")]),
        ("pada hari Minggu depan", [("Minggu", "d7")]),
        ("Minggu (14/3) pagi", [("Minggu", "d7")]),
        ("Minggu, 14 Maret 2021", [("Minggu", "d7"), ("Maret", "m3")]),
        ("Polisi datang pada Minggu malam.", [("Minggu", "d7")]),
        ("Minggu, polisi menangkap tersangka.", [("Minggu", "d7")]),
        ("Kata Mei Ling kepada wartawan.", []),
        ("pada 30 Mei 2005", [("Mei", "m5")]),
        ("pada bulan mei", [("mei", "m5")]),
        ("Mei 2019", [("Mei", "m5")]),
        ("Des. 2019 adalah", []),  # abbreviation without a day number
        ("14 Des 2019", [("Des", "m12")]),
        ("RABU dan kamis", [("RABU", "d3"), ("kamis", "d4")]),
        ("Jumaat dan Ahad", [("Jumaat", "d5"), ("Ahad", "d7")]),
        ("Pebruari", [("Pebruari", "m2")]),
    ],
)
def test_source_dates(source: str, expected: list[tuple[str, str]]) -> None:
    assert source_dates(source) == expected


def test_minggu_as_week_is_not_checked() -> None:
    assert missing_dates("minggu lalu harga naik", "prices rose last week", "en") == []
    assert missing_dates("minggu lalu harga naik", "上周价格上涨", "zh") == []


def test_mei_as_name_is_not_checked() -> None:
    assert missing_dates("kata Mei kepada wartawan", "梅告诉记者", "zh") == []


@pytest.mark.parametrize(
    ("target", "lang", "expected"),
    [
        ("2021年3月14日（日）", "ja", {"m3", "d7"}),
        ("星期一和周二", "zh", {"d1", "d2"}),
        ("The Sun reported on Sat.", "en", {"d7", "d6"}),
        ("the sun was out", "en", set()),
        ("10.30 WIB", "en", set()),
        ("14.03.2021", "fr", {"m3"}),
        ("وبالسبت وفي حزيران", "ar", {"d6", "m6"}),
        ("lundi 14 mars", "fr-FR", {"d1", "m3"}),
    ],
)
def test_target_dates(target: str, lang: str, expected: set[str]) -> None:
    assert target_dates(target, lang) == expected


def test_unknown_language_uses_numeric_months_only() -> None:
    assert missing_dates("pada 14 Maret", "am 14.3.2021", "de") == []
    assert missing_dates("pada 14 Maret", "am 14. März", "de") == ["Maret"]
