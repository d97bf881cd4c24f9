"""Tests for the Indonesian sentence segmenter and its NTREX benchmark."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lintas.measure.segbench import format_scores, segmentation_scores
from lintas.text.segment import sentences, split_sentences

REPO_ROOT = Path(__file__).resolve().parent.parent

GOLDEN: list[tuple[str, list[str]]] = [
    # plain endings
    ("Dia datang. Kami pergi.", ["Dia datang.", "Kami pergi."]),
    ("Apakah kamu sudah makan? Belum. Ayo makan!", ["Apakah kamu sudah makan?", "Belum.", "Ayo makan!"]),
    ("Luar biasa!! Siapa sangka?! Tidak ada.", ["Luar biasa!!", "Siapa sangka?!", "Tidak ada."]),
    # abbreviations: titles, addresses, ranks, money
    (
        "Pasien ditangani dr. Andi di RS Harapan. Dr. Budi juga hadir.",
        ["Pasien ditangani dr. Andi di RS Harapan.", "Dr. Budi juga hadir."],
    ),
    (
        "Kantornya di Jl. Sudirman No. 5, Jakarta. Prof. Siti menyambut tamu.",
        ["Kantornya di Jl. Sudirman No. 5, Jakarta.", "Prof. Siti menyambut tamu."],
    ),
    (
        "Surat itu ditujukan kepada Yth. Bpk. Joko a.n. Kepala Desa. Dia belum membalas.",
        ["Surat itu ditujukan kepada Yth. Bpk. Joko a.n. Kepala Desa.", "Dia belum membalas."],
    ),
    (
        "Acara dihadiri H. Ahmad dan Hj. Fatimah. Mereka datang dari Kab. Bogor, Kec. Cibinong.",
        ["Acara dihadiri H. Ahmad dan Hj. Fatimah.", "Mereka datang dari Kab. Bogor, Kec. Cibinong."],
    ),
    (
        "Kasus itu ditangani Brigjen. Pol. Sutrisno dan Kompol. Rina. AKBP Dedi menolak berkomentar.",
        ["Kasus itu ditangani Brigjen. Pol. Sutrisno dan Kompol. Rina.", "AKBP Dedi menolak berkomentar."],
    ),
    (
        "Hadir pula Kol. Inf. Bambang, Kapt. Yusuf, Lt. Dan Irjen. Ferdy. Acara selesai.",
        ["Hadir pula Kol. Inf. Bambang, Kapt. Yusuf, Lt. Dan Irjen. Ferdy.", "Acara selesai."],
    ),
    (
        "Harganya Rp. 50.000 per kilogram. Pembeli mengeluh.",
        ["Harganya Rp. 50.000 per kilogram.", "Pembeli mengeluh."],
    ),
    (
        "Saham PT. Astra International Tbk. naik 2%. Investor senang.",
        ["Saham PT. Astra International Tbk. naik 2%.", "Investor senang."],
    ),
    (
        "Kontrak diteken PT Astra International Tbk. Namun nilainya dirahasiakan.",
        ["Kontrak diteken PT Astra International Tbk.", "Namun nilainya dirahasiakan."],
    ),
    (
        "Pengacaranya, Budi Santoso, S.H., M.Si. hadir di sidang. Sidang ditunda.",
        ["Pengacaranya, Budi Santoso, S.H., M.Si. hadir di sidang.", "Sidang ditunda."],
    ),
    (
        "Ia membeli sayur, buah, ikan, dll. Semua dibayar tunai.",
        ["Ia membeli sayur, buah, ikan, dll.", "Semua dibayar tunai."],
    ),
    (
        "Lihat tgl. 5 Mei dan hlm. 12 dokumen tsb. Isinya penting.",
        ["Lihat tgl. 5 Mei dan hlm. 12 dokumen tsb.", "Isinya penting."],
    ),
    (
        "Drg. Sari dan Ir. Hadi bertemu Sdr. Tono di St. Carolus. Mereka berdiskusi.",
        ["Drg. Sari dan Ir. Hadi bertemu Sdr. Tono di St. Carolus.", "Mereka berdiskusi."],
    ),
    # English abbreviations
    (
        "Mr. Smith and Mrs. Jones met at Acme Inc. headquarters. The U.S. Army was there.",
        ["Mr. Smith and Mrs. Jones met at Acme Inc. headquarters.", "The U.S. Army was there."],
    ),
    (
        "Pertandingan Persija vs. Persib ditonton Martin Luther King Jr. Day. Penonton ramai.",
        ["Pertandingan Persija vs. Persib ditonton Martin Luther King Jr. Day.", "Penonton ramai."],
    ),
    (
        "Kebijakan itu diumumkan A.S. Namun Tiongkok menolak.",
        ["Kebijakan itu diumumkan A.S.", "Namun Tiongkok menolak."],
    ),
    # initials
    (
        "Presiden B. J. Habibie lahir di Parepare. Ia insinyur.",
        ["Presiden B. J. Habibie lahir di Parepare.", "Ia insinyur."],
    ),
    (
        "Susilo B. Yudhoyono menjabat dua periode. Penggantinya Joko Widodo.",
        ["Susilo B. Yudhoyono menjabat dua periode.", "Penggantinya Joko Widodo."],
    ),
    # numbers, decimals, times, list markers
    (
        "Inflasi naik 1,5 persen menjadi 3.000.000 rupiah. Harga beras 12.500 per kg.",
        ["Inflasi naik 1,5 persen menjadi 3.000.000 rupiah.", "Harga beras 12.500 per kg."],
    ),
    (
        "Rapat dimulai pukul 08.00 dan selesai 10.30 WIB. Peserta pulang.",
        ["Rapat dimulai pukul 08.00 dan selesai 10.30 WIB.", "Peserta pulang."],
    ),
    (
        "Gedung itu dibangun pada 1998. 25 orang bekerja di sana.",
        ["Gedung itu dibangun pada 1998.", "25 orang bekerja di sana."],
    ),
    (
        "Syaratnya: 1. KTP 2. Kartu Keluarga 3. Pas foto. Berkas dikirim ke kantor.",
        ["Syaratnya: 1. KTP 2. Kartu Keluarga 3. Pas foto.", "Berkas dikirim ke kantor."],
    ),
    # quotes
    ("“Ini bagus.” Dia berkata.", ["“Ini bagus.”", "Dia berkata."]),
    ('"Kami siap." Pelatih tersenyum.', ['"Kami siap."', "Pelatih tersenyum."]),
    ("‘Jangan pergi!’ Ibu berteriak.", ["‘Jangan pergi!’", "Ibu berteriak."]),
    ("“Kenapa?” tanya dia. “Karena hujan.”", ["“Kenapa?” tanya dia.", "“Karena hujan.”"]),
    (
        'Dia berkata, "Saya lelah." "Tidur saja," jawab adiknya.',
        ['Dia berkata, "Saya lelah."', '"Tidur saja," jawab adiknya.'],
    ),
    ("Gempa terjadi (magnitudo 5,2.) Warga panik.", ["Gempa terjadi (magnitudo 5,2.)", "Warga panik."]),
    # ellipses
    ("Dia diam... lalu pergi. Kami menunggu.", ["Dia diam... lalu pergi.", "Kami menunggu."]),
    ("Entahlah… Mungkin besok.", ["Entahlah…", "Mungkin besok."]),
    (
        "Mereka penasaran …mereka tidak akan menyakiti Anda.",
        ["Mereka penasaran …mereka tidak akan menyakiti Anda."],
    ),
    # URLs, e-mail, domains
    (
        "Kunjungi https://www.example.co.id/berita/2024.html untuk info. Terima kasih.",
        ["Kunjungi https://www.example.co.id/berita/2024.html untuk info.", "Terima kasih."],
    ),
    (
        "Kirim surel ke redaksi@kompas.id. Kami akan membalas.",
        ["Kirim surel ke redaksi@kompas.id.", "Kami akan membalas."],
    ),
    (
        "Hal itu dilaporkan Kompas.com dan detik.com pada Senin. Sumber lain membantah.",
        ["Hal itu dilaporkan Kompas.com dan detik.com pada Senin.", "Sumber lain membantah."],
    ),
    (
        "Berita ini dikutip dari Kompas.com. Baca juga detik.com.",
        ["Berita ini dikutip dari Kompas.com.", "Baca juga detik.com."],
    ),
    # lowercase continuation, camel-case opener
    ("Dia membeli iPhone. iPhone itu mahal.", ["Dia membeli iPhone.", "iPhone itu mahal."]),
    ("Nilainya naik 5 kali lipat. dan itu wajar.", ["Nilainya naik 5 kali lipat. dan itu wajar."]),
    # newlines are boundaries
    (
        "Judul Berita\nIsi berita pertama. Kalimat kedua",
        ["Judul Berita", "Isi berita pertama.", "Kalimat kedua"],
    ),
    ("Baris satu tanpa titik\r\n\r\n  baris dua juga  \n", ["Baris satu tanpa titik", "baris dua juga"]),
    # degenerate input
    ("", []),
    ("   \n  ", []),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[f"case{i:02d}" for i in range(len(GOLDEN))])
def test_golden(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def _check_spans(text: str) -> None:
    spans = split_sentences(text)
    pos = 0
    for start, end in spans:
        assert pos <= start < end <= len(text)
        assert text[pos:start].strip() == ""
        assert not text[start].isspace() and not text[end - 1].isspace()
        pos = end
    assert text[pos:].strip() == ""
    # spans plus gaps give back the text
    rebuilt = ""
    pos = 0
    for start, end in spans:
        rebuilt += text[pos:start] + text[start:end]
        pos = end
    assert rebuilt + text[pos:] == text


@pytest.mark.parametrize("text", [t for t, _ in GOLDEN] + ["  Awal spasi.  Dua spasi.\t\tTab.\n\nAkhir.  "])
def test_spans_round_trip(text: str) -> None:
    _check_spans(text)


def _ntrex_dir() -> Path | None:
    env = os.environ.get("LINTAS_NTREX_DIR")
    candidates = [Path(env)] if env else []
    candidates += [Path("/work/shared/data/ntrex-dev"), REPO_ROOT.parent / "shared" / "data" / "ntrex-dev"]
    for folder in candidates:
        if (folder / "doc_ids.txt").is_file() and (folder / "ntrex.id.txt").is_file():
            return folder
    return None


def test_ntrex_dev_scores() -> None:
    folder = _ntrex_dir()
    if folder is None:
        pytest.skip("NTREX dev data not found (set LINTAS_NTREX_DIR)")
    scores = segmentation_scores(folder)
    assert scores["documents"] > 0 and scores["gold_boundaries"] > 0
    assert scores["tp"] + scores["fn"] == scores["gold_boundaries"]
    assert scores["tp"] + scores["fp"] == scores["predicted_boundaries"]
    assert "F1" in format_scores(scores)
    assert scores["f1"] >= 0.97, format_scores(scores)
