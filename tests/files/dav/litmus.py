"""Run the litmus WebDAV compliance suite (Debian's `litmus`) against a real server and read its summaries.

    results = run_litmus(f"{server.url}/dav/files/admin/", "admin", password, suites=("basic", "copymove"))
    assert_all_passed(results, ("basic", "copymove"))

litmus runs each suite named in `TESTS` in a collection `litmus/` it makes under the URL, and prints one summary line
per suite (`<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%`); without `-k` it stops after the
first suite that fails, so a suite without a summary did not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

LITMUS = "/usr/bin/litmus"
SUITES = ("basic", "copymove", "props", "http")
_SUMMARY = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed\. ([\d.]+)%")


@dataclass(frozen=True)
class SuiteResult:
    """One suite's summary line, parsed."""

    suite: str
    run: int
    passed: int
    failed: int
    line: str


@dataclass(frozen=True)
class LitmusRun:
    """What one litmus process printed, and each suite's summary."""

    suites: dict[str, SuiteResult]
    output: str
    returncode: int

    def summary(self) -> str:
        """The summary lines (what the README shows)."""
        return "\n".join(result.line for result in self.suites.values())

    def failures(self) -> str:
        """The lines of the tests that did not pass (FAIL, and the warnings), for an assertion message."""
        lines = [line for line in self.output.splitlines() if "FAIL" in line or "WARNING" in line or "SKIPPED" in line]
        return "\n".join(lines)


def run_litmus(url: str, username: str, password: str, suites: Sequence[str] = SUITES, timeout: float = 600) -> LitmusRun:
    """litmus against `url` (a collection the user may write, ending in `/`) with the suites in `TESTS`."""
    if shutil.which(LITMUS) is None:
        pytest.fail("litmus is not installed: `make test-deps` installs it (Debian package litmus)")
    env = {**os.environ, "TESTS": " ".join(suites)}
    # litmus writes debug.log and child.log where it runs: a directory of its own, not the checkout.
    with tempfile.TemporaryDirectory(prefix="litmus-") as workdir:
        result = subprocess.run(
            [LITMUS, url, username, password],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=workdir,
        )
    output = result.stdout + result.stderr
    found = {
        match.group(1): SuiteResult(
            suite=match.group(1),
            run=int(match.group(2)),
            passed=int(match.group(3)),
            failed=int(match.group(4)),
            line=match.group(0),
        )
        for match in _SUMMARY.finditer(output)
    }
    return LitmusRun(suites=found, output=output, returncode=result.returncode)


def assert_all_passed(run: LitmusRun, suites: Sequence[str] = SUITES) -> None:
    """Every suite ran, and every test of it passed (100%)."""
    missing = [suite for suite in suites if suite not in run.suites]
    failed = [result.line for result in run.suites.values() if result.failed]
    report = f"litmus: missing {missing}, failed {failed}\n{run.failures()}\n\n{run.output[-6000:]}"
    assert not missing, report
    assert not failed, report
