"""Chinese search: jieba's segmentation, plus every user-dictionary term a page contains.

The user dictionary is ``book/_ext/search_dict.txt`` (``html_search_options: {dict: ...}``,
resolved relative to the book by ``sgdbook_build``).

After an incremental build, ``searchindex.js`` is made equal to a clean build's: the index
entries of the pages not written again are put back (Sphinx does not reload them) and terms
left without pages are dropped.
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


def _load_index(index_file: Path) -> dict | None:
    from sphinx.search import js_index

    try:
        return js_index.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def restore_index_entries(data: dict, previous: dict | None, fed: set[str]) -> bool:
    """Put back the index entries (``indexentries``) of the pages not written this time.

    Sphinx's incremental search index reloads terms and titles from the previous
    ``searchindex.js`` but not its index entries, so after a rebuild only the pages written
    again had theirs; a clean build has every page's. Entries are ordered as a clean build
    orders them (by page, each page's in its order).
    """
    if not previous or "indexentries" not in previous:
        return False
    position = {name: i for i, name in enumerate(data["docnames"])}
    old_names = previous["docnames"]
    names = data["docnames"]
    merged: dict[str, list] = {}
    for key, entries in data.get("indexentries", {}).items():  # the pages written now
        merged.setdefault(key, []).extend(e for e in entries if names[e[0]] in fed)
    for key, entries in previous["indexentries"].items():
        for fn, *rest in entries:
            name = old_names[fn] if fn < len(old_names) else None
            if name is None or name in fed or name not in position:
                continue
            merged.setdefault(key, []).append([position[name], *rest])
    for entries in merged.values():
        entries.sort(key=lambda entry: entry[0])  # stable: a page's own order is kept
    restored = {k: [list(e) for e in v] for k, v in merged.items() if v}
    if restored == {k: [list(e) for e in v] for k, v in data.get("indexentries", {}).items()}:
        return False
    data["indexentries"] = restored
    return True


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


def _remember_index(app: Sphinx) -> None:
    if app.builder.format == "html":
        site_state(app).previous_index = _load_index(Path(app.outdir) / "searchindex.js")


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    st = site_state(app)
    if exception is not None or app.builder.format != "html" or not st.written:
        return
    index_file = Path(app.outdir) / "searchindex.js"
    data = _load_index(index_file)
    if data is not None and restore_index_entries(data, st.previous_index, st.written_pages):
        from sphinx.search import js_index

        index_file.write_text(js_index.dumps(data), encoding="utf-8")
    drop_empty_terms(index_file)


def setup(app: Sphinx) -> dict:
    app.add_search_language(SearchChineseTerms)
    app.connect("builder-inited", _remember_index)
    app.connect("build-finished", _build_finished, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
