"""What a question asks for (the fee, the documents, the time...) and which section says it.

Both sides are matched on folded text, so "lệ phí", "le phi" and "LE PHI" are one word.
"""

from __future__ import annotations

import re
from enum import StrEnum

from retrieval.textnorm import fold


class Intent(StrEnum):
    FEE = "fee"
    DOCUMENTS = "documents"
    TIME = "time"
    WHERE = "where"
    WHO = "who"
    LEGAL = "legal"
    CONTACT = "contact"


# Words in questions (folded; several languages). Order matters: the first intent found wins.
_QUESTION_WORDS: dict[Intent, tuple[str, ...]] = {
    Intent.FEE: (
        "le phi", "phi", "bao nhieu tien", "het bao nhieu", "mat bao nhieu tien", "gia", "tien",
        "fee", "fees", "cost", "costs", "how much", "price", "pay", "payment",
        "frais", "cout", "combien coute", "combien ca coute", "tarif", "prix", "payer",
        "gebuhr", "gebuhren", "kosten", "kostet", "wie viel", "preis", "tasa", "coste", "costo",
        "cuanto cuesta", "precio", "стоимость", "сколько стоит", "пошлина", "費用", "手数料",
        "料金", "いくら", "비용", "수수료", "얼마", "费用", "多少钱", "收费",
    ),
    Intent.TIME: (
        "bao lau", "mat bao lau", "may ngay", "bao nhieu ngay", "thoi gian", "khi nao co",
        "how long", "how many days", "processing time", "when will", "how soon",
        "combien de temps", "delai", "quand", "wie lange", "dauer", "cuanto tiempo", "plazo",
        "сколько времени", "срок", "どのくらい", "期間", "何日", "얼마나 걸", "기간", "多久", "多长时间",
    ),
    Intent.DOCUMENTS: (
        "giay to", "ho so", "can gi", "mang gi", "mang theo", "chuan bi", "can nhung gi",
        "documents", "document", "papers", "bring", "what do i need", "requirements", "required",
        "pieces", "fournir", "apporter", "dossier", "unterlagen", "dokumente", "mitbringen",
        "documentos", "requisitos", "документы", "書類", "必要な", "서류", "필요한", "材料", "文件",
    ),
    Intent.WHERE: (
        "o dau", "nop o dau", "lam o dau", "lam the nao", "lam sao", "cach nao", "nhu the nao",
        "where", "how do i", "how can i", "how to", "apply", "online",
        "ou", "comment", "ou faire", "wo", "wie", "donde", "como", "где", "как", "どこ", "どうやって",
        "어디", "어떻게", "哪里", "在哪", "怎么",
    ),
    Intent.WHO: ("ai duoc", "ai can", "dieu kien", "who can", "eligible", "eligibility", "qui peut", "conditions"),
    Intent.LEGAL: ("co so phap ly", "luat nao", "nghi dinh", "legal basis", "which law", "base juridique", "loi"),
    Intent.CONTACT: ("so dien thoai", "dia chi", "gio lam viec", "phone", "address", "opening hours",
                     "telephone", "adresse", "horaires", "telefon", "adresse", "direccion", "horario"),
}  # fmt: skip

# Words in section headings (folded; vi, en, fr documents).
_HEADING_WORDS: dict[Intent, tuple[str, ...]] = {
    Intent.FEE: ("le phi", "fee", "frais", "chi phi", "cost"),
    Intent.TIME: ("thoi gian", "processing time", "delai"),
    Intent.DOCUMENTS: ("giay to", "documents", "can chuan bi", "what to prepare", "a preparer", "pieces"),
    Intent.WHERE: ("nop ho so", "where and how", "ou et comment", "what to do", "can lam gi",
                   "how to", "cach", "que faire", "ou deposer"),
    Intent.WHO: ("ai can", "who this is for", "a qui", "doi tuong"),
    Intent.LEGAL: ("co so phap ly", "legal basis", "base juridique"),
    Intent.CONTACT: ("khi nao can lien he", "when to contact", "quand contacter"),
}  # fmt: skip


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # CJK has no spaces: match inside words there; elsewhere on word boundaries.
    return re.compile(rf"(?:(?<![^\W\d_])(?:{alternatives})(?![^\W\d_]))|(?:{_cjk(words)})")


def _cjk(words: tuple[str, ...]) -> str:
    cjk = [re.escape(w) for w in words if any(ord(ch) > 0x2E80 for ch in w)]
    return "|".join(cjk) or "(?!x)x"


_QUESTION_PATTERNS = {intent: _pattern(words) for intent, words in _QUESTION_WORDS.items()}
_HEADING_PATTERNS = {intent: _pattern(words) for intent, words in _HEADING_WORDS.items()}


def question_intents(text: str) -> list[Intent]:
    """Intents the question mentions, most specific first."""
    folded = fold(text)
    return [intent for intent, pattern in _QUESTION_PATTERNS.items() if pattern.search(folded)]


def heading_intent(heading: str) -> Intent | None:
    """The intent a section heading answers, if any."""
    folded = fold(heading)
    return next((i for i, p in _HEADING_PATTERNS.items() if p.search(folded)), None)
