"""Egg files for the compute tests (PTDL_v2, as Pterodactyl exports them)."""

from __future__ import annotations

import copy
from typing import Any

TEST_IMAGE = "nubes-test/busybox:1"

# Echoes what it reads on stdin; the egg's stop command is the line `stop`.
ECHO_EGG: dict[str, Any] = {
    "_comment": "DO NOT EDIT: FILE GENERATED AUTOMATICALLY BY PTERODACTYL PANEL - PTERODACTYL.IO",
    "meta": {"version": "PTDL_v2", "update_url": None},
    "exported_at": "2026-11-22T00:00:00+00:00",
    "name": "Echo server",
    "author": "tests@nubes.example",
    "description": "Echoes stdin lines; `stop` ends it.",
    "features": None,
    "docker_images": {"Busybox": TEST_IMAGE},
    "file_denylist": [],
    "startup": (
        "echo started {{GREETING}} on {{SERVER_PORT}} with {{SERVER_MEMORY}}; "
        'while read line; do [ "$line" = stop ] && echo bye && exit 0; echo "got $line"; done'
    ),
    "config": {"files": "{}", "startup": '{"done": "started"}', "logs": "{}", "stop": "stop"},
    "scripts": {
        "installation": {
            "script": "#!/bin/sh\necho installing\necho hello > /mnt/server/installed.txt\n",
            "container": TEST_IMAGE,
            "entrypoint": "sh",
        }
    },
    "variables": [
        {
            "name": "Greeting",
            "description": "Said at start",
            "env_variable": "GREETING",
            "default_value": "hello",
            "user_viewable": True,
            "user_editable": True,
            "rules": "required|string|max:20",
            "field_type": "text",
        },
        {
            "name": "Players",
            "description": "How many",
            "env_variable": "MAX_PLAYERS",
            "default_value": "10",
            "user_viewable": True,
            "user_editable": True,
            "rules": "nullable|integer|between:1,100",
            "field_type": "text",
        },
        {
            "name": "Build",
            "description": "Not for users to change",
            "env_variable": "BUILD",
            "default_value": "latest",
            "user_viewable": False,
            "user_editable": False,
            "rules": "required|regex:/^(latest|[0-9.]+)$/",
            "field_type": "text",
        },
    ],
}


def egg(**changes: Any) -> dict[str, Any]:
    """A copy of the echo egg with top-level keys changed."""
    document = copy.deepcopy(ECHO_EGG)
    document.update(changes)
    return document
