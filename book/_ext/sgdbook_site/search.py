"""Chinese search: jieba's segmentation, plus every user-dictionary term a page contains.

The user dictionary is ``book/_ext/search_dict.txt`` (``html_search_options: {dict: ...}``,
resolved relative to the book by ``sgdbook_build``).

After an incremental build, ``searchindex.js`` is made equal to a clean build's: the index
entries of the pages not written again are put back (Sphinx does not reload them) and terms
left without pages are dropped.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import snowballstemmer
from sphinx.application import Sphinx
from sphinx.search.zh import JIEBA, SearchChinese

from .common import cache_dir, site_state

if JIEBA:
    import jieba


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

    #: Where the segmentation cache is kept (set by :func:`_configure_cache`); none: no cache.
    cache_file: Path | None = None

    def init(self, options: dict[str, str]) -> None:
        # SearchChinese.init loads jieba's dictionary (half a second); here it is loaded only
        # when a text is not in the cache (:meth:`_cut`).
        self.stemmer = snowballstemmer.stemmer("english")
        self._dict_path = options.get("dict")
        self._jieba_ready = False
        terms = []
        dict_text = ""
        if self._dict_path and os.path.isfile(self._dict_path):
            dict_text = Path(self._dict_path).read_text(encoding="utf-8")
            for line in dict_text.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    terms.append(line.split()[0])
        self.dict_terms = tuple(sorted(set(terms), key=len, reverse=True))
        self._cache = SegmentationCache(self.cache_file, dict_text)

    def _cut(self, text: str) -> list[str]:
        """``list(jieba.cut_for_search(text))``, remembered between builds."""
        cuts = self._cache.cuts.get(text)
        if cuts is None:
            if not JIEBA:
                return []
            worker = _JiebaWorker.running
            if worker is not None and worker.misses < _JiebaWorker.MAX_MISSES:
                cuts = worker.cut(text)
            else:
                if worker is not None:
                    worker.stop()  # many new texts: segmenting here is cheaper than asking
                if not self._jieba_ready:
                    if self._dict_path and os.path.isfile(self._dict_path):
                        jieba.load_userdict(self._dict_path)
                    self._jieba_ready = True
                cuts = list(jieba.cut_for_search(text))
            self._cache.cuts[text] = cuts
            self._cache.dirty = True
        self._cache.used.add(text)
        return cuts

    def split(self, input: str) -> list[str]:
        # SearchChinese.split (the same words in the same order), then the dictionary terms
        words = list(self._cut(input))
        latin1 = [term.strip() for term in self.latin1_letters.findall(input)]
        words.extend(latin1)
        words.extend(term for term in self.dict_terms if term in input)
        return words

    def stem(self, word: str) -> str:
        """``SearchChinese.stem``'s rule, decided by the word alone, each stem computed once.

        Sphinx keeps a Latin word of three or more letters unstemmed when its stem would be
        shorter than three (``eps``, not ``ep``), but only if the word was seen earlier *as a
        whole Latin token* by the same index builder. jieba also yields Latin pieces (``eps`` out
        of ``eps_0``), so a clean build (every page fed) and an incremental one (only the written
        pages fed) stemmed the same word differently and their search indexes differed. Here the
        test is whether the word consists of Latin letters, digits and underscores: the same on
        every build, whatever was fed before.
        """
        lower = word.lower()
        stems = self._cache.stems
        stemmed = stems.get(lower)
        if stemmed is None:
            stemmed = stems[lower] = self.stemmer.stemWord(lower)
            self._cache.dirty = True
        if len(word) >= 3 and len(stemmed) < 3 and self.latin1_letters.fullmatch(word):
            return lower
        return stemmed


class SegmentationCache:
    """jieba's segmentation of each text and the stem of each word, kept between builds.

    A prose edit feeds the edited page to the search index again: segmenting its few
    thousand texts and loading jieba's dictionary for it took about a second. Only texts
    not seen before are segmented now (the dictionary is loaded for them alone). The cache
    (``book/_build/.sgdbook_site/search-segments.pickle``) is keyed by the jieba version
    and the user dictionary's text; a clean build keeps only the texts it used.
    """

    VERSION = 1

    def __init__(self, path: Path | None, dict_text: str) -> None:
        self.path = path
        self.key = (self.VERSION, getattr(jieba, "__version__", None), dict_text)
        self.cuts: dict[str, list[str]] = {}
        self.stems: dict[str, str] = {}
        self.used: set[str] = set()
        self.dirty = False
        if path is None:
            return
        try:
            with path.open("rb") as fh:
                data = pickle.load(fh)
            if data.get("key") == self.key:
                self.cuts, self.stems = data["cuts"], data["stems"]
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, KeyError):
            pass

    def save(self, every_page_fed: bool) -> None:
        if self.path is None:
            return
        if every_page_fed and len(self.used) < len(self.cuts):
            self.cuts = {text: self.cuts[text] for text in self.used}
            self.dirty = True
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(
                {"key": self.key, "cuts": self.cuts, "stems": self.stems},
                fh,
                pickle.HIGHEST_PROTOCOL,
            )
        tmp.replace(self.path)
        self.dirty = False


class _JiebaWorker:
    """jieba's dictionary, loaded in a forked helper process while Sphinx reads and writes.

    An incremental build segments only the few texts it has not seen (a prose edit: one
    paragraph), but those need jieba's dictionary, whose loading costs half a second. The
    helper loads it on the other core as soon as the builder starts, so that by the time the
    edited page is fed to the search index the dictionary is ready; each new text is sent to
    it and its segmentation sent back (the same jieba, the same dictionary, the same words).
    A clean build, which segments every text of the book, does not start it.
    """

    #: After this many texts in one build, segmenting in the build's own process is cheaper.
    MAX_MISSES = 200
    running: _JiebaWorker | None = None

    def __init__(self, dict_path: str | None) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_jieba, args=(child, dict_path), daemon=True)
        self._proc.start()
        child.close()
        self.misses = 0

    def cut(self, text: str) -> list[str]:
        self.misses += 1
        self._conn.send(text)
        return self._conn.recv()

    def stop(self) -> None:
        if _JiebaWorker.running is self:
            _JiebaWorker.running = None
        try:
            self._conn.send(None)
            self._conn.close()
        except OSError:
            pass
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.kill()

    @classmethod
    def start(cls, dict_path: str | None) -> None:
        if cls.running is None and JIEBA and hasattr(os, "fork"):
            cls.running = cls(dict_path)


def _serve_jieba(conn, dict_path: str | None) -> None:
    if dict_path and os.path.isfile(dict_path):
        jieba.load_userdict(dict_path)
    else:
        jieba.initialize()
    while True:
        try:
            text = conn.recv()
        except EOFError:
            return
        if text is None:
            return
        conn.send(list(jieba.cut_for_search(text)))


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

    data = _load_index(index_file)
    if data is None or not _drop_empty(data):
        return False
    index_file.write_text(js_index.dumps(data), encoding="utf-8")
    return True


def _drop_empty(data: dict) -> bool:
    changed = False
    for table in ("terms", "titleterms"):
        terms = data.get(table) or {}
        empty = [term for term, pages in terms.items() if pages == []]
        for term in empty:
            del terms[term]
        changed = changed or bool(empty)
    return changed


def _remember_index(app: Sphinx) -> None:
    if app.builder.format == "html":
        site_state(app).previous_index = _load_index(Path(app.outdir) / "searchindex.js")
        SearchChineseTerms.cache_file = cache_dir(app) / "search-segments.pickle"
        if SearchChineseTerms.cache_file.is_file() and Path(app.outdir, "searchindex.js").is_file():
            # an incremental build: few new texts, so have the dictionary loaded beside it
            _JiebaWorker.start((app.config.html_search_options or {}).get("dict"))


def _save_segments(app: Sphinx, exception: Exception | None) -> None:
    if _JiebaWorker.running is not None:
        _JiebaWorker.running.stop()
    indexer = getattr(app.builder, "indexer", None)
    lang = getattr(indexer, "lang", None)
    if exception is None and isinstance(lang, SearchChineseTerms):
        lang._cache.save(every_page_fed=site_state(app).written_pages >= set(app.env.found_docs))


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    st = site_state(app)
    if exception is not None or app.builder.format != "html" or not st.written:
        return
    index_file = Path(app.outdir) / "searchindex.js"
    data = _load_index(index_file)
    if data is None:
        return
    restored = restore_index_entries(data, st.previous_index, st.written_pages)
    if _drop_empty(data) or restored:  # both run: each mends its own difference
        from sphinx.search import js_index

        index_file.write_text(js_index.dumps(data), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_search_language(SearchChineseTerms)
    app.connect("builder-inited", _remember_index)
    app.connect("build-finished", _build_finished, priority=400)
    app.connect("build-finished", _save_segments)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
