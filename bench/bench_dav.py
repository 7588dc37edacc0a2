"""WebDAV: PROPFIND of large folders against the REST listing, rclone uploads against Apache's mod_dav, a 1 GiB
download against nginx.

- `dav_propfind_1000`, `dav_propfind_10000`: `PROPFIND` with `Depth: 1` of a folder of 1,000 and of 10,000 files (the
  properties a sync client lists a folder with: displayname, getlastmodified, getcontentlength, resourcetype,
  getcontenttype), the whole answer read, one request at a time, bearer token, ms. Baseline: the REST listing of the
  same folder, every entry, as a client reads it: `GET /api/files?parent_id=…&limit=500` page after page (`offset`),
  also ms. `ratio` = REST ms / PROPFIND ms (higher is better; 1.0 = PROPFIND as fast as listing the same entries over
  REST). `rest_first_page_ms` (the first 200, what the UI asks) is given for scale, and the server's peak RSS during
  the PROPFINDs (`nubes_peak_rss_mib`, next to `nubes_idle_rss_mib`): PROPFIND streams its XML.
  The entries are inserted straight into the server's database (bench/files_support.py).
- `dav_rclone_small_uploads`: `rclone copy --transfers 8` of 1,000 files of 4 KiB (webdav backend, vendor `other`,
  an app password over HTTP Basic) into a new folder of Nubes, against the same command into a new folder of a
  throwaway Apache `mod_dav` (Debian's apache2; config in a temp dir, its own loopback port, no authentication)
  serving a plain directory on the same disk: files/s, ratio = Nubes / Apache (Apache is the ceiling). rclone pays
  a `MKCOL` of the parent, a `PUT` and a `PROPFIND` per file on both, and rclone 1.60's webdav backend paces its
  calls (10 ms apart at least, all transfers together): ~30 files/s is the most any server gets from it. Apache's
  `mod_dav_fs` answers before the data is on disk; Nubes answers after an fsync of the blob and a commit: Apache is
  the faster and less durable ceiling.
- `dav_download_1gib`: `curl -o /dev/null` of `GET /dav/files/<user>/big.bin` (HTTP Basic with an app password, as
  clients sign in) against a throwaway nginx (sendfile on, one process) serving the very same blob file: MiB/s,
  ratio = Nubes / nginx. The file (random bytes) goes up once with `curl -T` over WebDAV `PUT` first
  (`put_mib_s`, one run, for scale). The server's peak RSS during the downloads is `nubes_peak_rss_mib`.

Rounds alternate the order of the two sides (bench/README.md). Runs on the default ASGI server only.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as SafeET

from bench.files_support import ADMIN, call_json, create_folder, root_id, seed_files, signed_in_nubes
from bench.harness import (
    HOST,
    BenchError,
    Options,
    Result,
    Server,
    free_port,
    launched,
    median,
    nginx_serving,
    peak_rss,
    rss_kib,
    server_env,
    wait_ready,
)

RCLONE = Path("/usr/bin/rclone")
APACHE = Path("/usr/sbin/apache2")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
NGINX = Path("/usr/sbin/nginx")
CURL = Path("/usr/bin/curl")
FOLDER_SIZES = (1_000, 10_000)
REST_PAGE = 500  # the REST listing's largest page (nubes.core.pagination.Limit)
SMALL_FILES = 1000
SMALL_SIZE = 4096
TRANSFERS = 8
SIZE = 1 << 30
MIB = 1 << 20
PROPFIND_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>
<d:getcontenttype/></d:prop></d:propfind>"""


def run(options: Options) -> list[Result]:
    """Seed two folders and time PROPFIND against REST, then rclone against Apache, then a 1 GiB GET against nginx."""
    for binary, package in ((RCLONE, "rclone"), (APACHE, "apache2"), (NGINX, "nginx"), (CURL, "curl")):
        if not binary.is_file():
            raise BenchError(f"{binary} not found; run `make bench`, which installs {package}")
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        workdir.chmod(0o755)  # Apache's workers (www-data when we are root) read their directory under it
        server, token = stack.enter_context(signed_in_nubes(workdir))
        app_password = _app_password(server, token)
        results = _propfinds(server, token, workdir, options.rounds)
        apache = stack.enter_context(_apache(workdir))
        results.append(_small_uploads(server, app_password, apache, workdir, options.rounds))
        results.append(_download(stack, server, app_password, workdir, options.rounds))
        server.check_alive()
    return results


def _app_password(server: Server, token: str) -> str:
    body = json.dumps({"name": "bench"}).encode()
    made = call_json(
        server,
        "POST",
        "/api/users/me/app-passwords",
        expect=201,
        token=token,
        body=body,
        headers={"Content-Type": "application/json"},
    )
    password: str = made["password"]
    return password


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{ADMIN}:{password}".encode()).decode()}


def _timed(server: Server, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[float, bytes]:
    """One request over a fresh loopback connection, the whole answer read: seconds and the body."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=300)
    try:
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    if response.status not in {200, 207}:
        raise BenchError(f"{method} {path} answered {response.status}: {answer[:300]!r}")
    return elapsed, answer


# --- PROPFIND against the REST listing --------------------------------------------------------------------------------


def _propfinds(server: Server, token: str, workdir: Path, rounds: int) -> list[Result]:
    root = root_id(server, token)
    auth = {"Authorization": f"Bearer {token}"}
    idle_kib = rss_kib(server.process.pid)
    results: list[Result] = []
    for entries in FOLDER_SIZES:
        name = f"folder {entries}"
        folder = create_folder(server, token, root, name)
        seed_files(workdir, folder, (f"report {index:05d}.txt" for index in range(entries)))
        dav_path = f"/dav/files/{ADMIN}/{name.replace(' ', '%20')}/"
        dav_headers = {**auth, "Depth": "1", "Content-Type": "application/xml"}
        _, answer = _timed(server, "PROPFIND", dav_path, dav_headers, PROPFIND_BODY)
        responses = len(SafeET.fromstring(answer).findall("{DAV:}response"))
        if responses != entries + 1:
            raise BenchError(f"PROPFIND of {entries} entries answered {responses} responses")
        if len(_rest_listing(server, folder, auth)[1]) != entries:
            raise BenchError(f"the REST listing of {entries} entries did not list them all")
        repeat = 5 if entries <= 1000 else 2
        times: dict[str, list[float]] = {"propfind": [], "rest": [], "rest_first_page": []}
        peak_kib = 0
        for round_index in range(rounds):
            steps = ["propfind", "rest"] if round_index % 2 == 0 else ["rest", "propfind"]
            for step in steps:
                for _ in range(repeat):
                    if step == "propfind":
                        with peak_rss(server.process.pid) as peak:
                            times["propfind"].append(_timed(server, "PROPFIND", dav_path, dav_headers, PROPFIND_BODY)[0])
                        peak_kib = max(peak_kib, peak[0])
                    else:
                        times["rest"].append(_rest_listing(server, folder, auth)[0])
            times["rest_first_page"].append(_timed(server, "GET", f"/api/files?parent_id={folder}&limit=200", auth)[0])
            print(
                f"dav: PROPFIND of {entries} round {round_index + 1}/{rounds}  propfind {times['propfind'][-1] * 1000:8.1f} ms"
                f"  rest (all pages) {times['rest'][-1] * 1000:8.1f} ms",
                file=sys.stderr,
            )
        propfind_ms = median([t * 1000 for t in times["propfind"]])
        rest_ms = median([t * 1000 for t in times["rest"]])
        results.append(
            {
                "benchmark": f"dav_propfind_{entries}",
                "unit": "ms",
                "what": f"PROPFIND Depth 1 of a folder of {entries} files, whole answer read",
                "nubes": propfind_ms,
                "baseline": rest_ms,
                "baseline_is": f"GET /api/files of the same folder, every page of {REST_PAGE}",
                "ratio": round(rest_ms / propfind_ms, 3),
                "ratio_is": "REST ms / PROPFIND ms (higher is better)",
                "rest_pages": -(-entries // REST_PAGE),
                "rest_first_page_ms": median([t * 1000 for t in times["rest_first_page"]]),
                "answer_bytes": len(answer),
                "nubes_idle_rss_mib": round(idle_kib / 1024, 1),
                "nubes_peak_rss_mib": round(peak_kib / 1024, 1),
                "entries": entries,
                "rounds": rounds,
                "requests_per_round": repeat,
                "nubes_runs": [round(t * 1000, 1) for t in times["propfind"]],
                "baseline_runs": [round(t * 1000, 1) for t in times["rest"]],
            }
        )
    return results


def _rest_listing(server: Server, folder: str, auth: dict[str, str]) -> tuple[float, list[object]]:
    """Every entry of `folder` through the REST API, page after page: seconds and the entries."""
    items: list[object] = []
    elapsed = 0.0
    while True:
        path = f"/api/files?parent_id={folder}&limit={REST_PAGE}&offset={len(items)}"
        seconds, answer = _timed(server, "GET", path, auth)
        elapsed += seconds
        page = json.loads(answer)
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return elapsed, items


# --- rclone: Nubes against Apache's mod_dav ---------------------------------------------------------------------------


@contextlib.contextmanager
def _apache(workdir: Path) -> Iterator[Server]:
    """Apache with mod_dav serving a plain directory under `workdir` on a free loopback port, no authentication."""
    home = workdir / "apache"
    root, locks = home / "root", home / "locks"
    for directory in (home, root, locks):
        directory.mkdir()
    (root / "ready.txt").write_text("ok")
    # As root Apache's workers switch to www-data (it refuses to serve as root): they own what they write.
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    if user:
        for path in (root, locks, root / "ready.txt"):
            shutil.chown(path, "www-data", "www-data")
    port = free_port()
    modules = "\n".join(
        f"LoadModule {name}_module {APACHE_MODULES / f'mod_{name}.so'}"
        for name in ("mpm_event", "authz_core", "dav", "dav_fs", "mime")
    )
    config = home / "httpd.conf"
    config.write_text(
        f"""ServerRoot "{home}"
ServerName {HOST}
Listen {HOST}:{port}
PidFile {home / "httpd.pid"}
ErrorLog {home / "error.log"}
LogLevel warn
{modules}
{user}TypesConfig /etc/mime.types
DavLockDB {locks / "DavLock"}
DocumentRoot {root}
<Directory {root}>
    Dav On
    Require all granted
</Directory>
"""
    )
    argv = [str(APACHE), "-f", str(config), "-D", "FOREGROUND"]
    with launched("apache", argv, port=port, workdir=home, env=server_env()) as server:
        wait_ready(server, "/ready.txt")
        yield server


def _rclone_env(workdir: Path, url: str, password: str | None) -> dict[str, str]:
    """rclone's environment with one remote `target:` (webdav, vendor other) and no config file of the machine's."""
    config = workdir / "rclone.conf"
    config.touch()
    env = server_env(
        HOME=str(workdir),
        RCLONE_CONFIG=str(config),
        RCLONE_CONFIG_TARGET_TYPE="webdav",
        RCLONE_CONFIG_TARGET_URL=url,
        RCLONE_CONFIG_TARGET_VENDOR="other",
    )
    env = {key: value for key, value in env.items() if not key.startswith("RCLONE_") or key.startswith("RCLONE_CONFIG")}
    if password is not None:
        obscured = subprocess.run([str(RCLONE), "obscure", password], capture_output=True, text=True, check=True)
        env |= {"RCLONE_CONFIG_TARGET_USER": ADMIN, "RCLONE_CONFIG_TARGET_PASS": obscured.stdout.strip()}
    return env


def _rclone_copy(env: dict[str, str], source: Path, target: str) -> float:
    """`rclone copy --transfers 8` of `source` into `target:`; the wall time. Every file must have gone."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(RCLONE), "copy", str(source), target, "--transfers", str(TRANSFERS), "--stats-one-line", "-v"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    elapsed = time.perf_counter() - started
    output = done.stdout + done.stderr
    sent = output.count(": Copied (new)")
    if done.returncode != 0 or sent != SMALL_FILES:
        raise BenchError(f"rclone copy to {target} exited with {done.returncode} after {sent} files:\n{output[-2000:]}")
    return elapsed


def _small_uploads(server: Server, app_password: str, apache: Server, workdir: Path, rounds: int) -> Result:
    source = workdir / "small"
    source.mkdir()
    for index in range(SMALL_FILES):
        (source / f"small {index:04d}.bin").write_bytes(os.urandom(SMALL_SIZE))
    envs = {
        "nubes": _rclone_env(workdir, server.url(f"/dav/files/{ADMIN}/"), app_password),
        "apache": _rclone_env(workdir, apache.url("/"), None),
    }
    times: dict[str, list[float]] = {"nubes": [], "apache": []}
    for round_index in range(rounds):
        steps = ["nubes", "apache"] if round_index % 2 == 0 else ["apache", "nubes"]
        for step in steps:
            os.sync()  # no writeback of an earlier step's files during this one
            times[step].append(_rclone_copy(envs[step], source, f"target:round-{round_index}"))
        print(
            f"dav: rclone round {round_index + 1}/{rounds}  "
            + "  ".join(f"{name} {SMALL_FILES / runs[-1]:7.1f} files/s" for name, runs in times.items()),
            file=sys.stderr,
        )
    apache.check_alive()
    nubes_rate = median([SMALL_FILES / t for t in times["nubes"]])
    apache_rate = median([SMALL_FILES / t for t in times["apache"]])
    return {
        "benchmark": "dav_rclone_small_uploads",
        "unit": "files/s",
        "what": f"rclone copy --transfers {TRANSFERS} of {SMALL_FILES} files of {SMALL_SIZE} bytes",
        "nubes": nubes_rate,
        "baseline": apache_rate,
        "baseline_is": "the same rclone command to Apache mod_dav (no auth, no fsync) on the same disk",
        "ratio": round(nubes_rate / apache_rate, 3),
        "client": f"rclone {_rclone_version()} webdav vendor=other",
        "rounds": rounds,
        "nubes_runs": [round(SMALL_FILES / t, 1) for t in times["nubes"]],
        "baseline_runs": [round(SMALL_FILES / t, 1) for t in times["apache"]],
    }


def _rclone_version() -> str:
    done = subprocess.run([str(RCLONE), "version"], capture_output=True, text=True, check=False)
    first = done.stdout.splitlines()[0] if done.stdout else ""
    return first.removeprefix("rclone ").strip()


# --- a 1 GiB GET against nginx ------------------------------------------------------------------------------------------


def _download(stack: contextlib.ExitStack, server: Server, app_password: str, workdir: Path, rounds: int) -> Result:
    source = workdir / "big.bin"
    block = 16 * MIB
    with source.open("wb") as handle:
        for _ in range(SIZE // block):
            handle.write(os.urandom(block))
    auth = _basic(app_password)
    url = server.url(f"/dav/files/{ADMIN}/big.bin")
    os.sync()
    started = time.perf_counter()
    status = _curl(["-o", "/dev/null", "-w", "%{http_code}", "-T", str(source), "-H", "Expect:", *_headers(auth), url])
    put_s = time.perf_counter() - started
    if status.strip() != "201":
        raise BenchError(f"PUT of 1 GiB over WebDAV answered {status}")
    source.unlink()
    blob = _blob_path(workdir)
    nginx = stack.enter_context(nginx_serving(workdir, blob.parents[2]))
    nginx_url = nginx.url("/" + str(blob.relative_to(blob.parents[2])))
    times: dict[str, list[float]] = {"nubes": [], "nginx": []}
    peak_kib = 0
    for round_index in range(rounds):
        steps = ["nubes", "nginx"] if round_index % 2 == 0 else ["nginx", "nubes"]
        for step in steps:
            if step == "nginx":
                times["nginx"].append(_get(nginx_url, {}))
                continue
            with peak_rss(server.process.pid) as peak:
                times["nubes"].append(_get(url, auth))
            peak_kib = max(peak_kib, peak[0])
        print(
            f"dav: 1 GiB GET round {round_index + 1}/{rounds}  "
            + "  ".join(f"{name} {SIZE / MIB / runs[-1]:7.0f} MiB/s" for name, runs in times.items()),
            file=sys.stderr,
        )
    nubes_rate = median([SIZE / MIB / t for t in times["nubes"]])
    nginx_rate = median([SIZE / MIB / t for t in times["nginx"]])
    return {
        "benchmark": "dav_download_1gib",
        "unit": "MiB/s",
        "what": "GET of a 1 GiB file over WebDAV (HTTP Basic, app password), curl -o /dev/null",
        "nubes": nubes_rate,
        "baseline": nginx_rate,
        "baseline_is": "nginx (sendfile on) serving the same blob file to the same curl command",
        "ratio": round(nubes_rate / nginx_rate, 3),
        "put_mib_s": round(SIZE / MIB / put_s, 1),
        "nubes_peak_rss_mib": round(peak_kib / 1024, 1),
        "size_bytes": SIZE,
        "rounds": rounds,
        "client": "curl",
        "nubes_runs": [round(SIZE / MIB / t) for t in times["nubes"]],
        "baseline_runs": [round(SIZE / MIB / t) for t in times["nginx"]],
    }


def _headers(headers: dict[str, str]) -> list[str]:
    return [argument for name, value in headers.items() for argument in ("-H", f"{name}: {value}")]


def _curl(argv: list[str]) -> str:
    """Run curl with `argv`; what it printed on stdout (its -w output)."""
    done = subprocess.run([str(CURL), "-sS", *argv], capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise BenchError(f"curl exited with code {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def _get(url: str, headers: dict[str, str]) -> float:
    """GET `url` into /dev/null (the client writes nothing: this measures the server); the wall time."""
    started = time.perf_counter()
    status, size = _curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}", *_headers(headers), url]).split()
    elapsed = time.perf_counter() - started
    if status != "200" or int(size) != SIZE:
        raise BenchError(f"GET {url} answered {status} with {size} bytes, expected 200 with {SIZE}")
    return elapsed


def _blob_path(workdir: Path) -> Path:
    """Where the uploaded file's bytes are on disk: the one blob of that size under the data dir."""
    blobs = [path for path in (workdir / "nubes-data" / "blobs").glob("??/??/*") if path.stat().st_size == SIZE]
    if len(blobs) != 1:
        raise BenchError(f"expected one 1 GiB blob under the data dir, found {len(blobs)}")
    return blobs[0]
