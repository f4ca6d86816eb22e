"""Folding, abbreviations, diacritic restoration and language detection."""

from __future__ import annotations

import pytest

from consular.settings import DEFAULT_ABBREVIATIONS_FILE, DEFAULT_KB_DIR
from knowledge.loader import load_documents
from retrieval.abbreviations import AbbreviationList
from retrieval.diacritics import DiacriticRestorer
from retrieval.language import LanguageDetector, is_vietnamese_syllable
from retrieval.textnorm import fold, has_diacritics, lexical_terms


def test_fold_removes_marks_and_d_stroke():
    assert fold("Hộ CHIẾU Đại sứ quán") == "ho chieu dai su quan"
    assert fold("Légalisation à Lyon") == "legalisation a lyon"
    assert has_diacritics("đi") and not has_diacritics("di ho chieu")


def test_lexical_terms_match_syllable_sequences():
    assert lexical_terms("Hộ chiếu hết hạn") == [
        "ho",
        "chieu",
        "het",
        "han",
        "ho_chieu",
        "chieu_het",
        "het_han",
    ]
    assert set(lexical_terms("ho chieu")) <= set(lexical_terms("Cấp hộ chiếu mới"))


def test_abbreviations_expand_longest_first_and_only_when_typed_plainly():
    abbreviations = AbbreviationList.from_mapping(
        {
            "hc": "hộ chiếu",
            "ĐSQ": "đại sứ quán",
            "bn": "bao nhiêu",
            "bn oi": "bạn ơi",
            "ko": "không",
        }
    )
    assert (
        abbreviations.expand("hc het han lam o dsq ko")
        == "hộ chiếu het han lam o đại sứ quán không"
    )
    assert abbreviations.expand("bn oi, lam hc bn tien?") == "bạn ơi, lam hộ chiếu bao nhiêu tien?"
    assert abbreviations.expand("HC, Dsq!") == "hộ chiếu, đại sứ quán!"
    assert abbreviations.expand("kỏ") == "kỏ"  # typed with a mark: a word, not an abbreviation


def test_the_shipped_abbreviation_list_loads():
    abbreviations = AbbreviationList.load(DEFAULT_ABBREVIATIONS_FILE)
    assert abbreviations.expand("lsq osaka co lam hc cho tre em k") == (
        "lãnh sự quán osaka co lam hộ chiếu cho tre em không"
    )


@pytest.fixture(scope="module")
def corpus_restorer() -> DiacriticRestorer:
    docs = [d for d in load_documents(DEFAULT_KB_DIR).documents if d.lang == "vi"]
    return DiacriticRestorer.train(d.body for d in docs)


def test_restorer_restores_most_syllables_of_unseen_sentences(corpus_restorer):
    sentences = [
        "Tôi bị mất hộ chiếu ở Nhật thì phải làm gì",
        "Đăng ký khai sinh cho con sinh ở nước ngoài cần giấy tờ gì",
        "Hộ chiếu hết hạn thì làm lại ở đâu",
        "Lệ phí cấp hộ chiếu là bao nhiêu",
        "Tôi muốn đăng ký kết hôn với người nước ngoài",
    ]
    total = correct = 0
    for sentence in sentences:
        restored = corpus_restorer.restore(fold(sentence)).split()
        expected = sentence.lower().split()
        total += len(expected)
        correct += sum(a == b for a, b in zip(restored, expected, strict=True))
    assert correct / total >= 0.85


def test_restorer_keeps_marks_the_user_typed_and_words_it_does_not_know(corpus_restorer):
    assert corpus_restorer.restore("Mất HC ở Osaka").startswith("Mất")
    assert "Osaka" in corpus_restorer.restore("mat ho chieu o Osaka")


def test_vietnamese_syllable_shape():
    assert all(map(is_vietnamese_syllable, ["nghieng", "khuyen", "hoang", "quoc", "tich"]))
    assert not any(map(is_vietnamese_syllable, ["passport", "stolen", "how", "visum", "brauche"]))


@pytest.fixture(scope="module")
def detector(corpus_restorer) -> LanguageDetector:
    return LanguageDetector(corpus_restorer, AbbreviationList.load(DEFAULT_ABBREVIATIONS_FILE))


@pytest.mark.parametrize(
    ("text", "lang", "plain"),
    [
        ("hc het han lam lai o dsq tokyo ko", "vi", True),
        ("toi bi mat ho chieu o osaka thi phai lam sao", "vi", True),
        ("con em sinh ben duc thi lam giay khai sinh o dau a", "vi", True),
        ("Tôi muốn đăng ký kết hôn", "vi", False),
        ("My passport got stolen in Lyon", "en", False),
        ("can i get a visa on arrival", "en", False),
        ("Comment faire légaliser mon diplôme ?", "fr", False),
        ("Brauche ich ein Visum für Vietnam?", "de", False),
        ("ベトナムのeビザはどうやって申請しますか", "ja", False),
        ("베트남 비자 면제 몇일까지 가능해요?", "ko", False),
    ],
)
def test_language_detection(detector, text, lang, plain):
    detection = detector.detect(text)
    assert (detection.lang, detection.without_diacritics) == (lang, plain)
