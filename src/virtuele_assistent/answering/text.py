"""Text units of a passage (sentences, list items, table rows), terms and the facts they carry.

Passages arrive as the Markdown the extractor produced: paragraphs, ``-`` list items and ``|`` table
rows. Selection and verification both work on the units defined here, so an answer is built from the
same pieces it is checked against.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from wordfreq import zipf_frequency

from virtuele_assistent.index.analyzer import STOPWORDS, Analyzer, DutchAnalyzer, fold
from virtuele_assistent.sentences import split_sentences

# Words that say what kind of answer is wanted but not what it is about.
QUESTION_WORDS = frozenset(
    """
    wat welke welk wie waar wanneer waarom hoe hoeveel hoelang hoever kost kosten kun kunt kan mag
    mogen moet moeten ik mijn we wij ons onze jij jou jouw je u uw graag wil willen weten doen gaat
    ga krijg krijgen lang laat duurt duren dag dagen nodig even eigenlijk gewoon word wordt worden
    volgend open ongeveer hier daar dan ergens iets zeker snel ver tevoren precies gratis prijs
    kosteloos the what how much when where who why which can do does is are my i we you your
    """.split()  # noqa: SIM905
)

_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ][0-9A-Za-zÀ-ÖØ-öø-ÿ'\-]*")
_TOKEN = re.compile(r"[a-z0-9]+")
_MARKUP = re.compile(r"(\*\*|__|`|\*(?=\S)|(?<=\S)\*)")

# Facts that must never be invented: amounts, numbers (dates, times, phone numbers, sizes).
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_AMOUNT = re.compile(r"€\s?\d|\d\s?euro\b", re.I)
_DURATION = re.compile(
    r"\b(\d+|een|twee|drie|vier|vijf|zes|acht|tien|twaalf)\s+(werk)?(dag|dagen|week|weken|maand|maanden|"
    r"jaar|jaren|uur|minuten|kwartier)\b|\b(binnen|uiterlijk|vanaf|tot|voor|na)\b.*\d",
    re.I,
)
_TIME = re.compile(
    r"\b\d{1,2}[.:]\d{2}\b|\b(maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)", re.I
)
_DATE = re.compile(
    r"\b\d{1,2}\s+(januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december)\b|\b(maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|week|weken|maand)\b",
    re.I,
)
_PHONE = re.compile(r"\b(14\s?0\d{2,3}|0\d{1,3}[\s-]?\d{6,8}|0800[\s-]?\d{4})\b")
_PLACE_WORDS = re.compile(
    r"\b(adres|loket|stadhuis|balie|straat|plein|weg|locatie|online|website|digid)\b", re.I
)


@dataclass
class Unit:
    """One answerable piece of a passage: a sentence, a list item or a table row with its header."""

    text: str  # as shown to a resident
    passage_index: int
    position: int
    kind: str = "sentence"  # sentence | item | row
    context: str = ""  # heading path and table caption: what the unit is about
    header: str = ""  # table header, for rows
    cells: tuple[str, ...] = ()  # the row's cells, for rows
    header_cells: tuple[str, ...] = ()
    terms: frozenset[str] = field(default_factory=frozenset)
    # What the unit leans on: the sentence that introduces its list ("U neemt mee:"), or the sentence
    # before one that refers back to it ("Dit kan tot ..."). It says what the unit is about.
    lead: str = ""
    list_id: int = -1  # items of one list share an id; so does the sentence that introduces them
    paragraph: int = -1  # sentences of one paragraph share an id within their passage

    @property
    def section(self) -> str:
        """The heading the unit stands under (the last of its heading path)."""
        return self.context.split(" > ")[-1].strip() if self.context else ""


# A sentence that leans on the one before it ("Dan ...", "Dit kan ...", "Daardoor ...").
_LEANS_BACK = re.compile(
    r"^(dan|dat|dit|die|deze|zo|ook dan|anders|then|this|that)\b"
    # "Daarna ...", and after a first word: "Pas daarna ...", "Ook daarom ..."
    r"|^(\w+ )?(daarna|daarvoor|daarom|daardoor|daarmee|hierdoor|hierna|hiervoor)\b"
    r"|^\w+ (u|je|jij|we|wij) dan\b"  # "Meld u dan ...", "Geef dat dan ..."
    # "Doe dit bij voorkeur ...", but not "Zorg dat u ..."
    r"|^\w+ (dit|dat)\b(?! (u|je|jij|we|wij|er|het|de|een)\b)",
    re.I,
)


def leans_back(text: str) -> bool:
    return bool(_LEANS_BACK.search(text.strip()))


# A character the Markdown of a page escaped ("BEGRENZINGSKAART\_2021", "I\*ESN"); "\|" stays, it
# keeps a table cell whole.
_ESCAPED = re.compile(r"(\\[\\`*_{}\[\]()#+\-.!,<>~])")


def clean(text: str) -> str:
    """The text as a resident reads it: no emphasis markup, escaped characters as themselves."""
    parts = _ESCAPED.split(text)
    plain = "".join(part[1] if i % 2 else _MARKUP.sub("", part) for i, part in enumerate(parts))
    return re.sub(r"\s+", " ", plain).strip()


def _cells(row: str) -> list[str]:
    return [clean(c) for c in row.strip().strip("|").split("|")]


def _is_separator(row: str) -> bool:
    return bool(re.fullmatch(r"\|?[\s:|-]+\|?", row.strip())) and "-" in row


def units_of(text: str, passage_index: int, heading_path: str = "") -> list[Unit]:
    """Split a passage's Markdown into units; table rows carry their table's header, list items the
    sentence that introduces them and sentences that refer back the sentence they refer to."""
    units: list[Unit] = []
    lines = text.splitlines()
    lists = paragraphs = 0
    lead: Unit | None = None  # the sentence that introduces the current list
    address_of: Unit | None = None  # the same, while only short lines (an address) follow it
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            units.extend(_table_units(block, passage_index, heading_path, len(units)))
            lead = address_of = None
            continue
        if line.startswith("#"):
            i += 1
            lead = address_of = None
            continue
        if re.match(r"^([-*+]|\d+[.)])\s+", line):
            address_of = None
            if lead is None and (not units or units[-1].kind != "item"):
                lists += 1
                lead = Unit("", passage_index, -1, list_id=lists)  # a list without an introduction
            item = clean(re.sub(r"^([-*+]|\d+[.)])\s+", "", line))
            if item and lead is not None:
                units.append(
                    Unit(
                        item,
                        passage_index,
                        len(units),
                        "item",
                        heading_path,
                        lead=lead.text,
                        list_id=lead.list_id,
                    )
                )
            i += 1
            continue
        paragraph = [line]
        i += 1
        while (
            i < len(lines) and lines[i].strip() and not re.match(r"^([-*+|#]|\d+[.)])\s*", lines[i].strip())
        ):
            paragraph.append(lines[i].strip())
            i += 1
        text_line = clean(" ".join(paragraph))
        if address_of is not None and _is_short_line(text_line):
            # "U kunt ook een brief sturen naar:" followed by the lines of an address.
            units.append(
                Unit(
                    text_line,
                    passage_index,
                    len(units),
                    "item",
                    heading_path,
                    lead=address_of.text,
                    list_id=address_of.list_id,
                )
            )
            continue
        lead = address_of = None
        # A paragraph may refer back to the one before it ("Dit kan tot het kind 16 jaar oud is.").
        last = units[-1] if units else None
        previous = (
            last.text if last and last.kind == "sentence" and last.text.endswith((".", "!", "?")) else ""
        )
        paragraphs += 1
        for sentence in split_sentences(clean(" ".join(paragraph))):
            unit = Unit(sentence, passage_index, len(units), "sentence", heading_path, paragraph=paragraphs)
            if previous and leans_back(sentence):
                unit.lead = previous
            units.append(unit)
            previous = sentence
        if units and units[-1].text.endswith(":"):
            lists += 1
            lead = address_of = units[-1]
            lead.list_id = lists
    return units


def _is_short_line(text: str) -> bool:
    """A line of an address or a contact block: a few words, no sentence."""
    return len(text.split()) <= 5 and not text.endswith((".", "!", "?", ":"))


def _table_units(block: list[str], passage_index: int, heading_path: str, start: int) -> list[Unit]:
    rows = [_cells(r) for r in block if not _is_separator(r)]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    caption = ""
    # A first row with one filled cell is the table's caption ("Tarieven paspoort 2026 | | |").
    if len(rows) > 1 and sum(1 for c in rows[0] if c) == 1:
        caption = next(c for c in rows[0] if c)
        rows = rows[1:]
    header = rows[0] if len(rows) > 1 else []
    body = rows[1:] if header else rows
    context = " > ".join(p for p in (heading_path, caption) if p)
    units: list[Unit] = []
    for row in body:
        text = render_row(row, header)
        if text:
            units.append(
                Unit(
                    text,
                    passage_index,
                    start + len(units),
                    "row",
                    context,
                    header=" | ".join(header),
                    cells=tuple(row),
                    header_cells=tuple(header),
                )
            )
    return units


def render_row(row: list[str], header: list[str]) -> str:
    """'Paspoort 18 jaar en ouder: € 84,50 (geldig: 10 jaar)' from a row and its header.

    A value goes without its column's name where the name adds nothing: the row's only value, or an
    amount under a name that only says it is one ('Prijs'). Beside parallel columns ('Restafval | Gft',
    'Zone A | Zone B', 'Kosten normaal | Kosten spoed') a bare value would read as true for the whole
    row, so there each is named: 'Noord, restafval: maandag, oneven weken (gft: maandag, even weken)'.
    Words that only say 'price' are left out of a name: every cost question would match them."""
    if not any(row):
        return ""
    first, rest = row[0], row[1:]
    names = header[1:] if len(header) == len(row) else [""] * len(rest)
    labels = [_column_label(name) for name in names]
    several = sum(1 for name in names if name) > 1
    shown: list[tuple[str, str]] = []  # (label or "", value)
    for label, value in zip(labels, rest, strict=False):
        if value and value not in ("-", "–"):
            shown.append((label if several else "", value))
    if not shown:
        return first
    (main_label, main), extra = shown[0], [f"{n}: {v}" if n else v for n, v in shown[1:]]
    head = f"{first}, {main_label}: {main}" if main_label else f"{first}: {main}"
    return head + (f" ({'; '.join(extra)})" if extra else "")


_PRICE_WORDS = re.compile(r"\b(prijs|prijzen|bedrag|bedragen|kosten|tarief|tarieven)\b", re.I)


def _column_label(name: str) -> str:
    """A column's name as said before its value: 'Kosten normaal' -> 'normaal', 'Prijs' -> '',
    'Zone A Centrum' -> 'zone A Centrum' (an abbreviation such as 'WOZ-waarde' keeps its capitals)."""
    label = re.sub(r"\s+", " ", _PRICE_WORDS.sub("", name)).strip(" :,-")
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


# "Hoe meld ik hem af?", "Waar geef ik dat door?": the verb and its particle, split by the subject.
_SEPARABLE = re.compile(
    r"\b([a-z]+)(\s+(?:ik|je|jij|u|we|wij|hij|zij|ze)\b[^?.!,]*?)\s"
    r"(af|aan|door|op|in|uit|mee|terug|weg|toe|bij|om|over)\s*(?=[?.!,]|$)"
)


def join_separable_verbs(text: str) -> str:
    """'hoe meld ik hem af?' -> 'hoe afmeld ik hem?' (lower-case text)."""

    def join(match: re.Match[str]) -> str:
        verb, rest, particle = match.groups()
        if verb in STOPWORDS or verb in QUESTION_WORDS:
            return match.group(0)  # 'kan ik ... aan' has no separated verb
        return f"{particle}{verb}{rest}"

    return _SEPARABLE.sub(join, text)


# The longest word seen for a stem, to look up how common the word is ('vrag' -> 'vraag').
_SURFACE: dict[str, str] = {}


# How well a compound is covered by its parts written apart ('meerpersoons huishouden' for
# 'meerpersoonshuishouden', 'evenement, vergunning' for 'evenementenvergunning'): less than the word
# itself, as the parts may stand in different sentences.
PARTS_MATCH = 0.8


class Terms:
    """Stemmed content terms, shared by selection, scope and verification."""

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer if isinstance(analyzer, DutchAnalyzer) else DutchAnalyzer()

    @lru_cache(maxsize=65536)  # noqa: B019 - one Terms object per process
    def of(self, text: str) -> frozenset[str]:
        return frozenset(t for t in self.analyzer.terms(text) if len(t) > 1)

    def content(self, text: str) -> tuple[str, ...]:
        """Topic terms of a question, in order: without question words, stopwords and bare numbers.
        A separated verb is joined again: 'Hoe meld ik hem af?' asks about 'afmelden'."""
        return tuple(self.surfaces(text))

    @lru_cache(maxsize=16384)  # noqa: B019
    def surfaces(self, text: str) -> dict[str, str]:
        """The question's topic terms (``content``) with the word each stands for in this question:
        how specific a term is depends on the word the resident wrote ('rijbewijs', 'aanvragen')."""
        words = [
            w
            for w in _TOKEN.findall(join_separable_verbs(fold(text)))
            if w not in STOPWORDS and w not in QUESTION_WORDS and not w.isdigit()
        ]
        found: dict[str, str] = {}
        for word in words:
            stem = self.stem(word)
            if len(stem) > 1:
                found[stem] = max(found.get(stem, ""), word, key=len)
                _SURFACE[stem] = max(_SURFACE.get(stem, ""), word, key=len)
        return found

    def stem(self, word: str) -> str:
        stem = getattr(self.analyzer, "stem", None)
        return stem(word) if stem else self.analyzer._stemmer.stemWord(word)

    def matches(self, term: str, candidates: frozenset[str] | set[str]) -> float:
        """``term_matches``, or (a little less) a match of the term's translation in the municipal
        glossary: 'kliko' is covered by an English page's 'wheelie bin'. A translation or synonym
        counts only as itself or inside a compound, not as a near form: 'extract' (uittreksel) is not
        'extra'."""
        best = term_matches(term, candidates)
        if best >= 0.9:
            return best
        for words in (*self.translations(term), *self.synonyms(term)):
            found = min(term_matches(w, candidates) for w in words)
            if found >= 0.9:
                best = max(best, 0.9 * found)
        parts = self.parts(term)
        if best < PARTS_MATCH and parts and all(term_matches(p, candidates) >= 0.9 for p in parts):
            best = PARTS_MATCH  # the compound written apart: 'meerpersoons huishouden'
        return best

    @lru_cache(maxsize=16384)  # noqa: B019
    def parts(self, term: str) -> tuple[str, ...]:
        """The stems of a compound term's parts ('meerpersoonshuishouden' -> 'meerpersoon', 'huishoud');
        () for a word that is not a compound of two or more known words."""
        found = [p for p in self.of(self.surface(term)) if p != term]
        # The finest split: 'afvalstoffenheffing' is 'afval', 'stof', 'heffing', not also 'afvalstof'.
        leaves = tuple(sorted(p for p in found if not any(q != p and q in p for q in found)))
        return leaves if len(leaves) >= 2 else ()

    @lru_cache(maxsize=16384)  # noqa: B019
    def synonyms(self, term: str) -> tuple[tuple[str, ...], ...]:
        """Stems of each everyday synonym of a question term: 'bruiloft' -> (('huwelijk',), ('trouw',))."""
        found: list[tuple[str, ...]] = []
        for group in synonym_groups():
            stems = [tuple(self.stem(w) for w in self.analyzer.tokens(member)) for member in group]
            if any(len(s) == 1 and s[0] == term for s in stems):
                found.extend(s for s in stems if s and s != (term,) and s not in found)
        return tuple(found)

    @lru_cache(maxsize=16384)  # noqa: B019
    def translations(self, term: str) -> tuple[tuple[str, ...], ...]:
        """Stems of each glossary translation of a question term: 'kliko' -> (('wheelie', 'bin'), ...)."""
        glossary = self.analyzer.glossary
        if glossary is None:
            return ()
        found = []
        for translation in glossary.translations([self.surface(term)]):
            stems = tuple(self.stem(w) for w in self.analyzer.tokens(translation))
            if stems:
                found.append(stems)
        return tuple(found)

    def surface(self, term: str) -> str:
        """The longest question word seen for a stem ('herplantplicht' for 'herplantplicht'); where
        the question is at hand, ``surfaces`` gives the word of that question."""
        return _SURFACE.get(term, term)

    def specificity(self, term: str, word: str | None = None) -> float:
        """How much a word says about a topic: 'huurtoeslag' 1.0, 'moeder' 0.2 (from Dutch word
        frequencies: everyday words describe the resident's situation, rare ones the subject).
        ``word`` is the form the question used; without it, the longest form seen so far."""
        zipf = _zipf(word or _SURFACE.get(term, term))
        return min(1.0, max(0.1, (6.0 - zipf) / 2.5))


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """Groups of words that mean the same to a resident (``data/synonyms_nl.txt``)."""
    text = resources.files("virtuele_assistent.answering").joinpath("data/synonyms_nl.txt").read_text("utf-8")
    return tuple(
        tuple(w.strip() for w in line.split("|") if w.strip())
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=32768)
def _zipf(word: str) -> float:
    """Dutch word frequency; an unknown word that is one typo away from a known one counts as that."""
    zipf = zipf_frequency(word, "nl")
    if zipf > 0 or len(word) < 4:
        return zipf
    variants = {word[:i] + word[i + 1 :] for i in range(len(word))}
    variants |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in _LETTERS}
    variants |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    return max((zipf_frequency(v, "nl") for v in variants), default=0.0)


# 'meesturen' is 'sturen' with a particle, not a more specific thing.
_VERB_PARTICLES = frozenset(
    {"mee", "aan", "uit", "door", "toe", "over", "weg", "bij", "ver", "her", "terug", "op"}
)


def term_matches(term: str, candidates: frozenset[str] | set[str]) -> float:
    """1.0 for an exact match; partial credit for compounds and typos ('afvalstofheffing').

    A candidate that contains the term ('parkeer' in 'parkeervergunning') covers it well; a candidate
    that is only the head of the term's compound ('belasting' in 'inkomstenbelasting') does not: the
    question asks about something more specific than the text.
    """
    if term in candidates:
        return 1.0
    best = 0.0
    for candidate in candidates:
        if len(term) == 3 and len(candidate) <= 5 and candidate.startswith(term):
            best = max(best, 0.8)  # a short stem of the same word ('mel' of 'melden', 'meld')
        elif len(term) >= 4 and len(candidate) >= 4 and term in candidate:
            best = max(best, 0.9 if len(term) >= 5 else 0.7)
        elif len(term) >= 4 and len(candidate) >= 4 and candidate in term:
            # Only the compound's head ('bewijs' of 'rijbewijs') names something more general.
            prefix = term[: len(term) - len(candidate)]
            head_only = term.endswith(candidate) and len(prefix) >= 3 and prefix not in _VERB_PARTICLES
            best = max(best, 0.4 if head_only or len(term) - len(candidate) >= 4 else 0.8)
        elif len(term) >= 6 and _one_vowel_apart(term, candidate):
            best = max(best, 0.8)  # 'aangeven'/'aangifte' (geven/gift), a vowel typo
        elif len(term) >= 5 and len(candidate) >= 5 and abs(len(term) - len(candidate)) <= 2 + len(term) // 5:
            similarity = _trigram_similarity(term, candidate)
            if similarity >= 0.5:
                best = max(best, min(0.9, similarity + 0.2))
    return best


def _one_vowel_apart(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    different = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(different) == 1 and different[0][0] in "aeiou" and different[0][1] in "aeiou"


@lru_cache(maxsize=65536)
def _trigrams(word: str) -> frozenset[str]:
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _trigram_similarity(a: str, b: str) -> float:
    ta, tb = _trigrams(a), _trigrams(b)
    return len(ta & tb) / max(1, len(ta | tb))


def digits_of(text: str) -> str:
    """A number's digits without leading zeros: how numbers are compared ('€ 08,50' -> '850')."""
    return re.sub(r"\D", "", text).lstrip("0") or "0"


def numbers_in(text: str) -> set[str]:
    """Numbers as digit strings: '€ 1.432,80' -> {'143280'}, '09.00 uur' -> {'0900'}, '14 0555'."""
    found = set()
    for match in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if digits:
            found.add(digits_of(digits))
    for match in _PHONE.finditer(text):
        found.add(digits_of(match.group()))
    return found


# Words that make a number a bound ("maximaal 60 liter", "binnen 3 dagen", "3 of hoger"): the bound is
# part of the fact, so an answer must keep the source's bound with its number.
BOUND_WORDS = frozenset(
    """
    maximaal minimaal hooguit minstens tenminste binnen uiterlijk vanaf tot na langer korter meer minder
    hoger lager ouder jonger max min
    """.split()  # noqa: SIM905
)
_WORD_NUMBER_OR_MARK = re.compile(r"\d+(?:[.,:]\d+)*|[a-z]+|[^\sa-z\d]")


def bounds_of_numbers(text: str) -> dict[str, list[set[str]]]:
    """Per number (as in ``numbers_in``), for each time it occurs: the bound words among the three
    words right before it (not across another number or a punctuation mark), or after it as in
    "3 of hoger"; an empty set where it stands unbounded."""
    tokens = _WORD_NUMBER_OR_MARK.findall(fold(text))
    bounds: dict[str, list[set[str]]] = {}
    for i, token in enumerate(tokens):
        if not token[0].isdigit():
            continue
        near: set[str] = set()
        for word in reversed(tokens[max(0, i - 3) : i]):
            if not word.isalpha():
                break
            if word in BOUND_WORDS:
                near.add(word)
        if tokens[i + 1 : i + 2] == ["of"] and tokens[i + 2 : i + 3] and tokens[i + 2] in BOUND_WORDS:
            near.add(tokens[i + 2])
        bounds.setdefault(digits_of(token), []).append(near)
    return bounds


def has_amount(text: str) -> bool:
    return bool(_AMOUNT.search(text)) or "gratis" in fold(text) or "kosteloos" in fold(text)


def has_duration(text: str) -> bool:
    return bool(_DURATION.search(text))


def has_time(text: str) -> bool:
    return bool(_TIME.search(text))


def has_date(text: str) -> bool:
    return bool(_DATE.search(text)) or bool(re.search(r"\d", text))


def has_place(text: str) -> bool:
    return bool(_PLACE_WORDS.search(text)) or bool(re.search(r"\b[A-Z][a-z]+(straat|plein|weg)\b", text))


_PROCEDURE = re.compile(
    r"\b(aanvra\w*|vraagt|meld\w*|bel\w*|online|formulier|loket|afspraak|digid|contact|mijn\w+|website|"
    r"app|e-mail|ga naar|kunt u)\b",
    re.I,
)


def has_procedure(text: str) -> bool:
    return bool(_PROCEDURE.search(text))


_NEED = re.compile(
    r"\b(heeft|hebt|hebben|hoeft|hoeven)\b[^.?!]*\bnodig\b|\b(verplicht|vergunningplichtig)\b"
    r"|\b(hoeft|hoeven) (u|je|jij|we|wij) (geen|niet)\b",
    re.I,
)


def has_need(text: str) -> bool:
    """Does the text say whether something is required or allowed ("U hebt geen vergunning nodig")?"""
    return bool(_NEED.search(text))


def has_phone(text: str) -> bool:
    return bool(_PHONE.search(text))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise_for_match(text: str) -> str:
    """Case-, whitespace- and €-spacing-insensitive form, for fact matching."""
    text = fold(text).replace("\u00a0", " ")
    text = re.sub(r"€\s*", "€ ", text)
    return re.sub(r"\s+", " ", text).strip()
