"""The OAuth provider's hot endpoints against `GET /api/health` on the same server, same run.

- `oauth_token_rps`: requests/s of `POST /oauth/token` with the client credentials grant (client_secret_basic: the
  client is looked up and its secret hash compared, a token row is written and committed) as a ratio to health.
- `oauth_userinfo_rps`: requests/s of `GET /oauth/userinfo` with an app token from a real code + PKCE sign-in (the
  token resolved through the principal cache, as every API request) as a ratio to health.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oauth2.rfc7636.challenge import create_s256_code_challenge

from bench.harness import (
    CONNECTIONS,
    WARMUP_S,
    WRK,
    WRK_THREADS,
    BenchError,
    Options,
    Result,
    Server,
    WrkRun,
    load_generator,
    median,
    nubes_server,
    parse_wrk,
    wait_ready,
    wrk,
)

ADMIN = "admin"
PASSWORD = "Bench-Granite-Falcon-73"  # noqa: S105 - a throwaway server's first admin
REDIRECT = "http://127.0.0.1:9/callback"
SERVER_ENV = {"NUBES_ADMIN_PASSWORD": PASSWORD, "NUBES_LOGIN_RATE_LIMIT": "100000/minute"}
# A wrk script template; the Basic credentials are filled in per run.
TOKEN_SCRIPT = """wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=files%3Aread"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {basic}"
"""  # noqa: S105


def _app(server: Server) -> tuple[dict[str, str], str]:
    """A confidential client (code, refresh, client credentials) and an app token of the admin from code + PKCE."""
    with httpx.Client(base_url=server.url("")) as browser:
        signed_in = browser.post("/api/auth/login", json={"username": ADMIN, "password": PASSWORD})
        if signed_in.status_code != 200:
            raise BenchError(f"login answered {signed_in.status_code}")
        writes = {"Origin": server.url(""), "X-CSRF-Token": browser.cookies["nubes_csrf"]}
        body = {
            "name": "Bench",
            "redirect_uris": [REDIRECT],
            "scopes": ["openid", "profile", "email", "files:read"],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "first_party": True,
        }
        client: dict[str, str] = browser.post("/api/oauth/clients", json=body, headers=writes).json()
        verifier = secrets.token_urlsafe(48)
        query = {
            "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
            "scope": "openid profile email files:read", "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }  # fmt: skip
        back = browser.get("/oauth/authorize", params=query).headers.get("location", "")
        code = parse_qs(urlsplit(back).query).get("code", [""])[0]
        token = browser.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
            auth=(client["client_id"], client["client_secret"]),
        )
        if token.status_code != 200:
            raise BenchError(f"the code + PKCE sign-in failed: {token.status_code} {token.text[:200]}")
        access: str = token.json()["access_token"]
        return client, access


def _wrk_post(server: Server, script: Path, duration_s: int) -> WrkRun:
    """wrk with a Lua script (a POST with its body and headers), as harness.wrk runs GETs."""
    argv = [
        str(WRK),
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{duration_s}s",
        "--latency",
        "--timeout",
        "2s",
        "-s",
        str(script),
    ]
    completed = subprocess.run(
        [*argv, server.url("/oauth/token")], capture_output=True, text=True, timeout=duration_s + 30, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"wrk exited with code {completed.returncode}: {completed.stderr.strip()}")
    server.check_alive()
    measured = parse_wrk(completed.stdout)
    if "Non-2xx" in completed.stdout:
        raise BenchError(f"the token endpoint refused requests:\n{completed.stdout}")
    return measured


def run(options: Options) -> list[Result]:
    """Start one Nubes, sign an app in, then alternate wrk runs on health, the token endpoint and userinfo."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        server = stack.enter_context(nubes_server(workdir, **SERVER_ENV))
        wait_ready(server, "/api/ready")
        client, access = _app(server)
        basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        script = workdir / "token.lua"
        script.write_text(TOKEN_SCRIPT.replace("{basic}", basic))
        bearer = {"Authorization": f"Bearer {access}"}
        wrk(server, "/api/health", WARMUP_S)
        wrk(server, "/oauth/userinfo", WARMUP_S, headers=bearer)
        _wrk_post(server, script, WARMUP_S)
        runs: dict[str, list[WrkRun]] = {"health": [], "token": [], "userinfo": []}
        for round_index in range(options.rounds):
            order = ["health", "token", "userinfo"]
            for name in order if round_index % 2 == 0 else order[::-1]:
                if name == "token":
                    measured = _wrk_post(server, script, options.duration_s)
                elif name == "userinfo":
                    measured = wrk(server, "/oauth/userinfo", options.duration_s, headers=bearer)
                else:
                    measured = wrk(server, "/api/health", options.duration_s)
                runs[name].append(measured)
                print(
                    f"oauth: round {round_index + 1}/{options.rounds} {name:8} {measured.requests_per_s:9.1f} req/s",
                    file=sys.stderr,
                )

    health = median([r.requests_per_s for r in runs["health"]])
    common = {
        "rounds": options.rounds,
        "duration_s": options.duration_s,
        "connections": CONNECTIONS,
        "load_generator": load_generator(),
    }
    results: list[Result] = []
    for name, benchmark in (("token", "oauth_token_rps"), ("userinfo", "oauth_userinfo_rps")):
        rps = median([r.requests_per_s for r in runs[name]])
        results.append(
            {
                "benchmark": benchmark,
                "unit": "requests/s",
                name: rps,
                "health": health,
                "ratio": round(rps / health, 3),
                f"{name}_p99_ms": median([r.p99_ms for r in runs[name]], 2),
                **common,
            }
        )
    return results
