"""The manifest's rules without a service: what version 1 accepts and refuses, and the settings' own checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from nubes.apps.registry.manifest import Manifest, ManifestSettingField, check_setting
from tests.apps.service_app import default_manifest


def _manifest(**changes: Any) -> Manifest:
    return Manifest.model_validate({**default_manifest(), **changes})


def test_the_test_services_manifest_is_valid_and_exposes_everything() -> None:
    manifest = _manifest()
    assert [(route.path, len(route.methods)) for route in manifest.exposed_routes()] == [("/", 7)]
    assert (manifest.timeout_seconds, manifest.max_body_bytes, manifest.isolated) == (30, 1024**3, False)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"manifest_version": 2}, "manifest_version"),
        ({"id": "a"}, "id"),
        ({"id": "-abc"}, "id"),
        ({"icon": "javascript:alert(1)"}, "icon"),
        ({"icon": "data:text/html;base64,PHNjcmlwdD4="}, "icon"),
        ({"icon": "/../../etc/passwd"}, "icon"),
        ({"ui": {"path": "/a/../b"}}, "ui.path"),
        ({"ui": {"path": "https://evil.example/"}}, "ui.path"),
        ({"routes": [{"path": "/", "methods": ["TRACE"]}]}, "routes.0.methods.0"),
        ({"routes": [{"path": "/x"}] * 21}, "routes"),
        ({"settings": [{"key": "a", "type": "select", "label": "A"}]}, "a select needs options"),
        ({"settings": [{"key": "a", "type": "secret", "label": "A", "default": "x"}]}, "a secret has no default"),
        ({"settings": [{"key": "a", "type": "number", "label": "A", "min": 5, "max": 1}]}, "min is above max"),
        ({"settings": [{"key": "a", "type": "number", "label": "A", "max": 3, "default": 9}]}, "at most 3"),
        ({"settings": [{"key": "a", "type": "text", "label": "A"}, {"key": "a", "type": "text", "label": "B"}]}, "share a key"),
        ({"settings": [{"key": "a", "type": "text", "label": "A", "pattern": ".*"}]}, "settings.0.pattern"),
        ({"webhooks": [{"event": "everything", "path": "/h"}]}, "webhooks.0.event"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_manifest_names_its_problem(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _manifest(**changes)
    assert problem in str(caught.value)


def test_a_data_icon_is_accepted_up_to_64_kib() -> None:
    assert _manifest(icon="data:image/png;base64,iVBORw0KGgo=").icon.startswith("data:image/png")
    with pytest.raises(ValidationError):
        _manifest(icon="data:image/png;base64," + "A" * 70_000)


def test_settings_values_are_checked_by_type_and_bounds() -> None:
    text = ManifestSettingField(key="name", type="text", label="Name", min=2, max=5)
    assert check_setting(text, "abc") == "abc"
    for too_short_long_or_not_text in ("a", "abcdef", 3):
        with pytest.raises(ValueError, match="Name"):
            check_setting(text, too_short_long_or_not_text)
    number = ManifestSettingField(key="n", type="number", label="N", min=0, max=1)
    assert check_setting(number, 0.5) == 0.5
    for not_a_number_in_bounds in (True, "1", float("nan"), float("inf"), 2):
        with pytest.raises(ValueError, match="N must"):
            check_setting(number, not_a_number_in_bounds)
