"""Dutch keyword analysis: stemming, stopwords, accents and compound splitting."""

from virtuele_assistent.index.analyzer import DutchAnalyzer, PlainAnalyzer
from virtuele_assistent.index.compounds import CompoundSplitter, build_parts, default_splitter


def test_compounds_are_split_into_known_parts() -> None:
    splitter = default_splitter()
    assert splitter.split("afvalstoffenheffing")[:2] == ["afvalstoffen", "heffing"]
    assert "afval" in splitter.split("afvalstoffenheffing")
    assert splitter.split("parkeervergunning") == ["parkeer", "vergunning"]
    assert splitter.split("bijstandsuitkering") == ["bijstand", "uitkering"]  # linking s
    # words that only look like compounds stay whole
    for word in ("parkeren", "verhuizen", "vergunning", "gemeente", "kwijtschelding"):
        assert splitter.split(word) == [], word


def test_compound_matches_its_parts_and_the_verb() -> None:
    analyzer = DutchAnalyzer()
    heffing = set(analyzer.terms("afvalstoffenheffing"))
    assert set(analyzer.terms("afval")) <= heffing and set(analyzer.terms("heffingen")) <= heffing
    assert set(analyzer.terms("parkeren")) <= set(analyzer.terms("parkeervergunning"))
    assert analyzer.terms("Één café") == analyzer.terms("een cafe")
    assert analyzer.terms("Wat kost het?") == ["kost"]


def test_plain_baseline_does_no_dutch_analysis() -> None:
    plain = PlainAnalyzer()
    assert plain.terms("De parkeervergunningen") == ["de", "parkeervergunningen"]
    assert not set(plain.terms("afval")) & set(plain.terms("afvalstoffenheffing"))


def test_build_parts_keeps_productive_parts_and_rejects_endings() -> None:
    words = [
        *("afval", "afvalbak", "afvalzak", "afvalberg", "bak", "zak", "berg", "heffing", "hond", "riool"),
        *("hondenheffing", "rioolheffing", "toeristenheffing", "toerist", "parkeren", "reageren"),
        *("registreren", "park", "eren", "reag"),
    ]
    parts = build_parts(words)
    assert "h" in parts["afval"] and "t" in parts["heffing"]
    assert "eren" not in parts  # a verb ending, not a compound tail
    splitter = CompoundSplitter(
        [w for w, r in parts.items() if "h" in r], [w for w, r in parts.items() if "t" in r]
    )
    assert splitter.split("afvalheffing") == ["afval", "heffing"]
    assert splitter.split("parkeren") == []
