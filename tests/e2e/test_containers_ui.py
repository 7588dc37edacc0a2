"""The container pages in a real browser, against a real `nubes serve`, a real `nubes agent` and a real Docker Engine.

The wizard creates a container from the echo egg (its variables checked in the browser with the server's
wording), the detail page shows it running, its console output in xterm.js and the echo of a line typed
into the console; the admin pages show the node online with its capacity bars, and a new node's one-time
registration command.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Request, expect

from tests.compute.eggs import ECHO_EGG
from tests.compute.test_docker import AgentProcess, docker_engine, wait_for
from tests.e2e.conftest import Server
from tests.serving import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(300)]

__all__ = ["docker_engine"]  # the fixture, used by `site`

# Generous: the install and start run on a shared, busy machine (a deadline for hangs, not a speed assertion).
SLOW_MS = 90_000


@dataclass
class Site:
    """A cluster with one node whose agent runs, and the echo egg."""

    cluster_name: str
    node_name: str
    node_id: str
    ports: list[int]


@pytest.fixture(scope="module")
def site(docker_engine: None, server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Set up through the API, as an operator would, with a real agent on this machine's Docker Engine."""
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    suffix = secrets.token_hex(3)
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        cluster = http.post("/api/clusters", json={"name": f"ui-{suffix}"}).json()
        body = {"name": f"ui-node-{suffix}", "cluster_id": cluster["id"], "cpu": 200, "memory_mb": 2048, "disk_mb": 10_000}
        node = http.post("/api/nodes", json=body).json()
        ports = sorted({free_port(), free_port()})
        allocations = {"ip": "127.0.0.1", "ports": [str(port) for port in ports]}
        assert http.post(f"/api/nodes/{node['id']}/allocations", json=allocations).status_code == 201
        if not any(egg["name"] == ECHO_EGG["name"] for egg in http.get("/api/eggs").json()):
            assert http.post("/api/eggs/import", json=ECHO_EGG).status_code == 201
        agent = AgentProcess(server, tmp_path_factory.mktemp("ui-agent") / "agent", node["registration_token"]).start()
        wait_for("the agent to connect", lambda: http.get(f"/api/nodes/{node['id']}").json()["status"] == "online")
    try:
        yield Site(cluster_name=cluster["name"], node_name=node["name"], node_id=node["id"], ports=ports)
    finally:
        agent.stop()
        listed = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=io.nubes.node={node['id']}"], capture_output=True, text=True, check=False
        )
        for name in listed.stdout.split():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def collect_problems(page: Page) -> list[str]:
    """Console errors and failed requests, except two that are expected here.

    - A poll the page cancels when it navigates away fails with net::ERR_ABORTED.
    - xterm.js writes <style> elements, which the strict CSP refuses (logged by the browser); the console tab
      applies their text through constructable stylesheets instead, which the test checks by the colours.
    """
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Applying inline style violates" not in message.text:
            problems.append(f"console: {message.text}")

    def on_failed(request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    return problems


async def _shot(page: Page, artifacts: Path, name: str, engine_name: str) -> None:
    await page.screenshot(path=artifacts / f"containers-{name}-{engine_name}.png", full_page=True)


async def test_a_container_made_in_the_wizard_runs_and_answers_in_the_console(
    admin_context: BrowserContext, site: Site, server: Server, artifacts: Path, engine_name: str
) -> None:
    page: Page = await admin_context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/containers")
    await page.get_by_role("link", name="New container").first.click()
    form = page.get_by_role("form", name="New container")

    # Step 1: the egg.
    await form.get_by_text(ECHO_EGG["name"]).click()
    await _shot(page, artifacts, "wizard-egg", engine_name)
    await form.get_by_role("button", name="Next").click()

    # Step 2: its variables, with the egg's defaults, checked as the server checks them.
    greeting = form.get_by_label("Greeting")
    await expect(greeting).to_have_value("hello")
    await greeting.fill("x" * 21)
    await expect(form).to_contain_text("GREETING must be at most 20 characters (rule max:20)")
    await form.get_by_label("Players").fill("500")
    await expect(form).to_contain_text("MAX_PLAYERS must be between 1 and 100 (rule between:1,100)")
    await _shot(page, artifacts, "wizard-variables", engine_name)
    await form.get_by_label("Players").fill("10")
    await greeting.fill("from the web")
    await form.get_by_role("button", name="Next").click()

    # Step 3: name, limits, cluster.
    name = f"web-{secrets.token_hex(3)}"
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Memory (MiB)").fill("96")
    await form.get_by_label("Cluster").select_option(label=site.cluster_name)
    await form.get_by_label("Node").select_option(value=site.node_id)
    await expect(form.get_by_label("Ports")).to_have_value("1")
    await form.get_by_label("Restart policy").select_option("on-crash")
    await form.get_by_label("Max restarts").fill("2")
    await _shot(page, artifacts, "wizard-limits", engine_name)
    await form.get_by_role("button", name="Next").click()

    # Step 4: review, create, follow the job.
    await expect(page.get_by_test_id("review")).to_contain_text("GREETING=from the web")
    await expect(page.get_by_test_id("review")).to_contain_text("On crash, at most 2 times")
    await expect(page.get_by_test_id("review")).to_contain_text(f"node {site.node_name}")
    await form.get_by_role("button", name="Create container").click()
    progress = page.get_by_test_id("create-progress")
    await expect(progress).to_contain_text("succeeded", timeout=SLOW_MS)
    await _shot(page, artifacts, "wizard-done", engine_name)
    await progress.get_by_role("link", name=f"Open {name}").click()

    # The detail page: running, the log tail in xterm, then a line typed in comes back.
    await expect(page.get_by_test_id("state-badge")).to_have_text("running", timeout=SLOW_MS)
    terminal = page.get_by_test_id("console-terminal")
    await expect(terminal).to_contain_text(f"started from the web on {site.ports[0]}", timeout=SLOW_MS)
    command = page.get_by_label("Command")
    await command.fill("ping from the browser")
    await command.press("Enter")
    await expect(terminal).to_contain_text("got ping from the browser", timeout=SLOW_MS)
    # The terminal's theme reached it despite the CSP (slate-200 text on slate-950).
    await expect(terminal.locator(".xterm-rows")).to_have_css("color", "rgb(226, 232, 240)")
    await _shot(page, artifacts, "console", engine_name)

    await page.get_by_role("tab", name="stats").click()
    await expect(page.get_by_test_id("stats-charts")).to_be_visible(timeout=SLOW_MS)
    await page.wait_for_timeout(3000)  # a few samples, for the screenshot only
    await _shot(page, artifacts, "stats", engine_name)
    # The files tab, through the agent: a new folder, an upload into it, rename, delete (after a confirm).
    await page.get_by_role("tab", name="files").click()
    files = page.get_by_test_id("container-files")
    await expect(files).to_be_visible()
    await page.get_by_role("button", name="New folder").click()
    await page.get_by_role("dialog").get_by_label("Name").fill("web-folder")
    await page.get_by_role("dialog").get_by_role("button", name="Create").click()
    await files.get_by_role("button", name="web-folder/").click()
    await expect(page.get_by_role("navigation", name="Folder")).to_contain_text("web-folder")
    await expect(files).to_contain_text("This folder is empty.")
    payload = b"motd=uploaded from the browser\n"
    await page.get_by_test_id("container-upload-input").set_input_files(
        {"name": "server.properties", "mimeType": "text/plain", "buffer": payload}
    )
    await expect(files.get_by_test_id("container-file-row")).to_contain_text("server.properties")
    await expect(files).to_contain_text(f"{len(payload)} B")
    async with page.expect_download() as downloading:
        await files.get_by_role("link", name="Download").click()
    download = await downloading.value
    assert download.suggested_filename == "server.properties"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == payload
    container_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}) as http:
        stored = await http.get(f"/api/containers/{container_id}/files/content", params={"path": "web-folder/server.properties"})
        assert stored.content == payload, stored.text
    await files.get_by_role("button", name="Rename server.properties").click()
    rename = page.get_by_role("dialog")
    await rename.get_by_label("Name").fill("renamed.properties")
    await rename.get_by_role("button", name="Rename").click()
    await expect(files).to_contain_text("renamed.properties")
    await expect(files).not_to_contain_text("server.properties")
    await _shot(page, artifacts, "files", engine_name)
    await files.get_by_role("button", name="Delete renamed.properties").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Delete renamed.properties?")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(files).to_contain_text("This folder is empty.")
    # Back at the root, a folder that exists already: the dialog shows the agent's reason (the problem detail).
    await page.get_by_role("navigation", name="Folder").get_by_role("button", name="/", exact=True).click()
    await expect(files.get_by_role("button", name="web-folder/")).to_be_visible()
    await page.get_by_role("button", name="New folder").click()
    again = page.get_by_role("dialog")
    await again.get_by_label("Name").fill("web-folder")
    await again.get_by_role("button", name="Create").click()
    await expect(again).to_contain_text("web-folder: exists already.")
    # The browser logs that expected 409 once; it is no problem of the page.
    problems.remove("console: Failed to load resource: the server responded with a status of 409 (Conflict)")
    await again.get_by_role("button", name="Close").click()
    # A symlink made inside the container is listed as such, and a move through it is refused with the reason.
    link = await asyncio.create_subprocess_exec(
        "docker", "exec", f"nubes-{container_id}", "ln", "-s", "/etc", "/home/container/web-link"
    )
    assert await link.wait() == 0
    await files.get_by_role("button", name="web-folder/").click()
    await page.get_by_role("navigation", name="Folder").get_by_role("button", name="/", exact=True).click()
    await expect(files.get_by_test_id("container-file-row").filter(has_text="web-link")).to_contain_text("(link, not followed)")
    await files.get_by_role("button", name="Rename web-folder").click()
    move = page.get_by_role("dialog")
    await move.get_by_label("Name").fill("web-link/moved")
    await move.get_by_role("button", name="Rename").click()
    await expect(move).to_contain_text("symbolic links are not followed")
    problems.remove("console: Failed to load resource: the server responded with a status of 403 (Forbidden)")
    await _shot(page, artifacts, "files-symlink", engine_name)
    await move.get_by_role("button", name="Close").click()
    await expect(files.get_by_role("button", name="web-folder/")).to_be_visible()

    await page.get_by_role("tab", name="settings").click()
    await expect(page.get_by_test_id("container-settings")).to_contain_text(f"127.0.0.1:{site.ports[0]}")
    await expect(page.get_by_test_id("container-settings")).to_contain_text("on crash, at most 2 times")
    # Edit what PATCH takes: a bad name shows the server's reason; then a restart policy is saved.
    settings = page.get_by_role("form", name="Container settings")
    await settings.get_by_label("Name").fill("bad/name")
    await settings.get_by_role("button", name="Save").click()
    await expect(settings).to_contain_text("should match pattern")
    problems.remove("console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)")
    await settings.get_by_label("Name").fill(name)
    await settings.get_by_label("Restart policy").select_option("on-crash")
    await settings.get_by_label("Max restarts").fill("5")
    await settings.get_by_role("button", name="Save").click()
    await expect(settings).to_contain_text("Saved.")
    await expect(page.get_by_test_id("container-settings")).to_contain_text("on crash, at most 5 times")
    await _shot(page, artifacts, "settings", engine_name)
    await page.get_by_role("tab", name="jobs").click()
    await expect(page.get_by_test_id("container-jobs")).to_contain_text("create")
    await _shot(page, artifacts, "jobs", engine_name)

    # Kill asks first, then the container stops.
    await page.get_by_role("button", name="Kill").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("SIGKILL")
    await dialog.get_by_role("button", name="Kill").click()
    await expect(page.get_by_test_id("state-badge")).not_to_have_text("running", timeout=SLOW_MS)

    # The list links to it and filters by state.
    await page.goto(server.url + "/containers")
    row = page.get_by_test_id(f"container-{name}")
    await expect(row).to_be_visible()
    await page.get_by_label("Filter by state").select_option("running")
    await expect(row).to_be_hidden()
    await page.get_by_label("Filter by state").select_option("")
    await _shot(page, artifacts, "list", engine_name)
    assert problems == [], problems
    await page.close()


async def test_admin_sees_the_node_online_and_gets_a_registration_command(
    admin_context: BrowserContext, site: Site, server: Server, artifacts: Path, engine_name: str
) -> None:
    page: Page = await admin_context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/admin/nodes")
    card = page.get_by_test_id(f"node-{site.node_name}")
    await expect(card).to_contain_text("online")
    await expect(card).to_contain_text(re.compile(r"agent \d"))
    capacity = card.locator("xpath=..")
    await expect(capacity.get_by_role("meter", name="Memory reserved")).to_be_visible()
    await expect(capacity.get_by_test_id("capacity-memory")).to_contain_text("/ 2048 MiB")
    await _shot(page, artifacts, "admin-nodes", engine_name)

    await page.get_by_role("button", name="Add node").click()
    new_node = page.get_by_role("form", name="New node")
    await new_node.get_by_label("Name").fill(f"spare-{secrets.token_hex(3)}")
    await new_node.get_by_label("Cluster").select_option(label=site.cluster_name)
    await new_node.get_by_role("button", name="Add node").click()
    command = page.get_by_test_id("agent-command")
    await expect(command).to_contain_text(f"nubes agent --server {server.url} --token nbr_")
    await _shot(page, artifacts, "admin-node-registration", engine_name)
    await page.keyboard.press("Escape")

    await page.goto(server.url + f"/admin/nodes/{site.node_id}")
    await expect(page.get_by_test_id("allocations")).to_contain_text(f"127.0.0.1:{site.ports[1]}")
    await _shot(page, artifacts, "admin-allocations", engine_name)
    await page.goto(server.url + "/admin/clusters")
    await expect(page.get_by_test_id("clusters")).to_contain_text(site.cluster_name)
    await _shot(page, artifacts, "admin-clusters", engine_name)
    await page.goto(server.url + "/admin/eggs")
    eggs = page.get_by_test_id("eggs")
    await expect(eggs).to_contain_text(ECHO_EGG["name"])
    # Categories: create, rename, put the egg in it (the wizard then groups by its name), delete.
    categories = page.get_by_test_id("egg-categories")
    first, renamed = f"Tools {secrets.token_hex(2)}", f"Utilities {secrets.token_hex(2)}"
    await page.get_by_role("button", name="New category").click()
    await page.get_by_role("form", name="New category").get_by_label("Name").fill(first)
    await page.get_by_role("form", name="New category").get_by_role("button", name="Create").click()
    await expect(categories).to_contain_text(first)
    await categories.get_by_role("button", name=f"Rename {first}").click()
    await page.get_by_role("form", name="Edit category").get_by_label("Name").fill(renamed)
    await page.get_by_role("form", name="Edit category").get_by_role("button", name="Save").click()
    await expect(categories).to_contain_text(renamed)
    await expect(categories).not_to_contain_text(first)
    echo_card = eggs.locator("section").filter(has_text=ECHO_EGG["name"])
    await echo_card.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("form", name="Edit egg")
    await edit.get_by_label("Category").select_option(label=renamed)
    await edit.get_by_label("Description").fill("Echoes what it reads, edited in the browser.")
    await edit.get_by_role("button", name="Save").click()
    await expect(eggs).to_contain_text("Echoes what it reads, edited in the browser.")
    await expect(echo_card).to_contain_text(renamed)
    await expect(categories).to_contain_text(f"{renamed}1 egg(s)")
    await _shot(page, artifacts, "admin-eggs", engine_name)
    await page.goto(server.url + "/containers/new")
    await expect(page.get_by_role("form", name="New container")).to_contain_text(renamed)
    await page.goto(server.url + "/admin/eggs")
    await categories.get_by_role("button", name=f"Delete {renamed}").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(categories).not_to_contain_text(renamed)
    await expect(echo_card).to_contain_text("Uncategorized")
    assert problems == [], problems
    await page.close()
