"""Chinese search: jieba's segmentation, plus every user-dictionary term a page contains.

The user dictionary is ``book/_ext/search_dict.txt`` (``html_search_options: {dict: ...}``,
resolved relative to the book by ``sgdbook_build``).
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.search.zh import SearchChinese

from .common import site_state


class SearchChineseTerms(SearchChinese):
    """jieba's search-mode segmentation, plus every user-dictionary term found in the text.

    ``jieba.cut_for_search`` yields a compound term only where its segmentation of the
    sentence happens to produce it: 梯度下降 inside 随机梯度下降 is split into 2- and 3-character
    pieces, never into the 4-character term, so a page that only says 随机梯度下降 would be
    missing from the results for 梯度下降. Substring matching against the dictionary makes each
    listed term findable on every page that contains it. The query side needs nothing: Sphinx's
    default ``splitQuery`` keeps a run of CJK characters as one term.
    """

    dict_terms: tuple[str, ...] = ()

    class _Terms(set):
        """The Latin terms seen so far; Sphinx's ``SearchChinese`` keeps them in a list that
        grows with every page and is searched for every word, which made indexing the book
        quadratic (8 of a clean build's 25 s of rendering)."""

        def extend(self, terms) -> None:
            self.update(terms)

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        self.latin_terms = self._Terms()  # type: ignore[assignment]
        self._stems: dict[str, str] = {}
        path = options.get("dict")
        terms = []
        if path and os.path.isfile(path):
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    terms.append(line.split()[0])
        self.dict_terms = tuple(sorted(set(terms), key=len, reverse=True))

    def split(self, input: str) -> list[str]:
        words = super().split(input)
        words.extend(term for term in self.dict_terms if term in input)
        return words

    def stem(self, word: str) -> str:
        """``SearchChinese.stem`` (the same rule), with each word's stem computed once."""
        lower = word.lower()
        stemmed = self._stems.get(lower)
        if stemmed is None:
            stemmed = self._stems[lower] = self.stemmer.stemWord(lower)
        if word in self.latin_terms and len(word) >= 3 and len(stemmed) < 3:
            return lower
        return stemmed


def drop_empty_terms(index_file: Path) -> bool:
    """Remove the terms no page contains any more from ``searchindex.js``; whether it changed.

    Sphinx's incremental index keeps, after a page is written again, every term the page used
    to contain with an empty list of pages; a clean build has no such entries.
    """
    from sphinx.search import js_index

    try:
        text = index_file.read_text(encoding="utf-8")
        data = js_index.loads(text)
    except (OSError, ValueError):
        return False
    changed = False
    for table in ("terms", "titleterms"):
        terms = data.get(table) or {}
        empty = [term for term, pages in terms.items() if pages == []]
        for term in empty:
            del terms[term]
        changed = changed or bool(empty)
    if changed:
        index_file.write_text(js_index.dumps(data), encoding="utf-8")
    return changed


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html" and site_state(app).written:
        drop_empty_terms(Path(app.outdir) / "searchindex.js")


def setup(app: Sphinx) -> dict:
    app.add_search_language(SearchChineseTerms)
    app.connect("build-finished", _build_finished, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
