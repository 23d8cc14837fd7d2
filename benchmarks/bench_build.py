"""Benchmark of the book build: clean, no-change, prose-edit and code-edit builds, per chapter.

Run from the repository root (with the project's environment active):

    python benchmarks/bench_build.py [--chapter minibatch] [--repeat 3] [--repeat-each 1]
        [--from-cache] [--no-serial] [--keep]

It works on a temporary copy of the working tree (tracked and untracked, not ignored, files;
``node_modules`` and ``.venv`` are linked), so the repository itself is never edited and its
``book/_build`` is left alone. It prints:

* a serial clean build (``SGDBOOK_BUILD_JOBS=1``): each chapter's execution time, measured
  without other chapters competing for the cores, and their sum (the serial cost);
* a clean build with the default parallelism (one chapter per core; ``SGDBOOK_BUILD_JOBS``
  in the environment overrides it) and its ratio to the slowest chapter (the best possible with
  enough cores) and to the serial sum;
* no-change rebuilds and rebuilds after a prose edit of one chapter (the largest by default,
  named in the output), ``--repeat`` times each, with their median, and one rebuild after a
  code edit of that chapter;
* ``--repeat-each`` prose edits of every other page of the table of contents (median and
  range per page), then the rebuilt site compared file by file with a clean build of the same
  sources;
* each number against the targets of issues 8 and 12 (informative; this script never fails on
  them).

Timings are wall-clock seconds and depend on the machine's load: report the machine with them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
EXECUTED_RE = re.compile(r"^\[sgdbook\] executed (\S+) in ([0-9.]+) s$", re.MULTILINE)


def copy_worktree(dest: Path) -> None:
    """Copy the working tree's tracked and untracked-but-not-ignored files (symlinks kept)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = REPO / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    for name in ("node_modules", ".venv"):
        if (REPO / name).exists() and not (dest / name).exists():
            (dest / name).symlink_to((REPO / name).resolve())


def toc_chapters(root: Path) -> list[str]:
    """Docnames of the TOC's pages that have code cells (the root page too), in TOC order."""
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^root:\s*(\S+)", toc, re.M) + re.findall(
        r"^\s*-?\s*file:\s*(\S+)", toc, re.M
    )
    return [
        f for f in files if "{code-cell}" in (root / "book" / f"{f}.md").read_text(encoding="utf-8")
    ]


class Bench:
    def __init__(self, root: Path):
        self.root = root
        self.env = {**os.environ, "PYTHONPATH": str(root)}

    def build(
        self, label: str, extra: tuple[str, ...] = (), **env: str
    ) -> tuple[float, dict[str, float]]:
        """One ``jupyter-book build book``; its wall time and the chapters it executed."""
        started = time.perf_counter()
        proc = subprocess.run(
            [str(JUPYTER_BOOK), "build", "book", *extra],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            sys.stdout.write(output[-8000:])
            raise SystemExit(f"bench_build: the {label} build failed (exit {proc.returncode})")
        executed = {name: float(t) for name, t in EXECUTED_RE.findall(output)}
        print(
            f"  {label:<28} {seconds:7.1f} s   executed: {', '.join(executed) or 'nothing'}",
            flush=True,
        )
        return seconds, executed

    def clean(self) -> None:
        shutil.rmtree(self.root / "book" / "_build", ignore_errors=True)


def compare_with_clean_build(bench: Bench, root: Path) -> list[str]:
    """Build the same sources clean in another folder (the execution cache copied: nothing
    runs) and list the files of the site that differ from the incrementally rebuilt one."""
    clean = root.parent / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(
        root / "book" / "_build" / ".jupyter_cache", clean / "_build" / ".jupyter_cache"
    )
    bench.build("clean build of the same sources", extra=("--all", "--path-output", str(clean)))
    rebuilt, fresh = root / "book" / "_build" / "html", clean / "_build" / "html"
    names = {
        p.relative_to(tree).as_posix()
        for tree in (rebuilt, fresh)
        for p in tree.rglob("*")
        if p.is_file() and p.name != ".buildinfo"
    }
    return sorted(
        name
        for name in names
        if not (rebuilt / name).is_file()
        or not (fresh / name).is_file()
        or (rebuilt / name).read_bytes() != (fresh / name).read_bytes()
    )


def largest_chapter(root: Path, chapters: list[str]) -> str:
    """The chapter whose MyST source is the largest (the slowest page to read and write)."""
    return max(chapters, key=lambda c: (root / "book" / f"{c}.md").stat().st_size)


def target(label: str, value: float, limit: float) -> str:
    return f"  {label:<44} {value:7.1f} s  (target <= {limit:.1f} s: {'met' if value <= limit else 'MISSED'})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chapter",
        help="docname edited for the prose and code edits "
        "(default: the chapter with the largest source)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="no-change and prose-edit rebuilds to time (median reported)",
    )
    parser.add_argument(
        "--no-serial",
        action="store_true",
        help="skip the serial clean build (per-chapter times then come from the "
        "parallel build, inflated by competition for the cores)",
    )
    parser.add_argument(
        "--from-cache",
        action="store_true",
        help="start from the working tree's execution cache "
        "(book/_build/.jupyter_cache): only the rebuild figures are meaningful; "
        "implies --no-serial",
    )
    parser.add_argument(
        "--no-each-chapter",
        action="store_true",
        help="skip the prose edits of every other page of the table of contents",
    )
    parser.add_argument(
        "--repeat-each",
        type=int,
        default=1,
        help="prose edits of every other page to time (median reported)",
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="skip comparing the rebuilt site with a clean build of the same sources",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sgdbook-bench-"))
    root = tmp / "repo"
    try:
        copy_worktree(root)
        if args.from_cache:
            args.no_serial = True
            print("  (execution cache copied: the chapters are not executed)")
            shutil.copytree(
                REPO / "book" / "_build" / ".jupyter_cache",
                root / "book" / "_build" / ".jupyter_cache",
            )
        bench = Bench(root)
        chapters = toc_chapters(root)
        chapter = args.chapter or largest_chapter(root, chapters)
        page = root / "book" / f"{chapter}.md"
        size = page.stat().st_size
        print(f"sgdbook build benchmark on a copy of {REPO} in {root}")
        print(
            f"  cores: {len(os.sched_getaffinity(0))}, load average: "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; edited chapter: {chapter} "
            f"({size / 1000:.0f} kB{', the largest' if chapter == largest_chapter(root, chapters) else ''})\n"
        )

        per_chapter: dict[str, float] = {}
        serial_time = None
        if not args.no_serial:
            bench.clean()
            serial_time, per_chapter = bench.build("clean build, serial", SGDBOOK_BUILD_JOBS="1")
        if not args.from_cache:
            bench.clean()
        clean_time, parallel_chapters = bench.build("clean build, parallel")
        if args.no_serial:
            per_chapter = parallel_chapters
        bench.build("first rebuild (caches settle)")
        nochange_times = []
        for i in range(args.repeat):
            seconds, executed = bench.build(f"no-change rebuild {i + 1}")
            assert not executed, executed
            nochange_times.append(seconds)
        nochange_time = statistics.median(nochange_times)

        text = page.read_text(encoding="utf-8")
        prose_times = []
        for i in range(args.repeat):
            page.write_text(text + f"\n基准测试追加的第 {i + 1} 段文字。\n", encoding="utf-8")
            seconds, executed = bench.build(f"rebuild after a prose edit {i + 1}")
            assert not executed, executed
            prose_times.append(seconds)
        prose_time = statistics.median(prose_times)
        others: dict[str, float] = {}  # median prose-edit rebuild of each other page
        spread: dict[str, tuple[float, float]] = {}
        edited: list[tuple[Path, str]] = []  # each page is restored once the site shows its edit
        if not args.no_each_chapter:
            for name in chapters:
                if name == chapter:
                    continue
                other = root / "book" / f"{name}.md"
                original = other.read_text(encoding="utf-8")
                edited.append((other, original))
                times = []
                for i in range(args.repeat_each):
                    other.write_text(
                        original + f"\n基准测试追加的第 {i + 1} 段文字。\n", encoding="utf-8"
                    )
                    seconds, executed = bench.build(f"prose edit of {name} {i + 1}")
                    assert not executed, executed
                    times.append(seconds)
                others[name] = statistics.median(times)
                spread[name] = (min(times), max(times))
        # the site as rebuilt after the last edit, against a clean build of the same sources
        differences = None if args.no_compare else compare_with_clean_build(bench, root)
        for other, original in edited:
            other.write_text(original, encoding="utf-8")
        page.write_text(
            text + "\n```{code-cell} ipython3\n_sgdbook_bench_edit = 1\n```\n", encoding="utf-8"
        )
        code_time, executed = bench.build("rebuild after a code edit")
        assert set(executed) <= {chapter}, executed

        print(
            "\nchapter execution times"
            + (" (serial build)" if not args.no_serial else " (parallel build)")
        )
        for name in chapters if not args.from_cache else []:
            shown = (
                f"{per_chapter[name]:7.1f} s"
                if name in per_chapter
                else "  (same code as another chapter: executed once)"
            )
            print(f"  {name:<28} {shown}")
        serial_sum = sum(per_chapter.values())
        slowest = max(per_chapter.values(), default=0.0)
        print(f"  {'sum (serial)':<28} {serial_sum:7.1f} s")
        print(f"  {'slowest':<28} {slowest:7.1f} s\n")

        print("summary")
        if serial_time is not None:
            print(f"  {'clean build, serial':<44} {serial_time:7.1f} s")
        print(f"  {'clean build, parallel':<44} {clean_time:7.1f} s")
        if slowest:
            print(f"  {'ratio clean build / slowest chapter':<44} {clean_time / slowest:7.2f}")
            print(f"  {'ratio clean build / serial sum':<44} {clean_time / serial_sum:7.2f}")
        print(target(f"no-change rebuild (median of {args.repeat})", nochange_time, 4))
        print(target(f"prose edit of {chapter} (median of {args.repeat})", prose_time, 5))
        if others:
            print(f"\nprose edit of each other page (median of {args.repeat_each}, min-max)")
            for name, seconds in others.items():
                low, high = spread[name]
                print(f"  {name:<28} {seconds:7.1f} s  ({low:.1f}-{high:.1f})")
            slowest_other = max(others, key=others.get)
            print(
                target(
                    f"prose edit, slowest other page ({slowest_other})", others[slowest_other], 5
                )
            )
        if differences is not None:
            shown = "identical" if not differences else f"{len(differences)} files differ"
            print(f"  {'rebuilt site vs clean build of same sources':<44} {shown}")
            for name in differences[:20]:
                print(f"    differs: {name}")
        print(f"  {'rebuild after a code edit':<44} {code_time:7.1f} s")
        if args.from_cache:
            print("  (--from-cache: nothing executed in the clean build; no execution targets)")
        else:
            print(
                target("clean build (0.75 x serial sum + 20 s)", clean_time, 0.75 * serial_sum + 20)
            )
            print(target("slowest chapter", slowest, 45))
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
