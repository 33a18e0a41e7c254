"""The OpenAPI document served at /api/openapi.yaml is a valid OpenAPI 3.1 description of this server's API."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

SPEC = Path(__file__).resolve().parents[2] / "Sources" / "OmbudServer" / "Resources" / "openapi.yaml"
ALLOWED_PREFIXES = ("/api/v1/", "/health", "/api/openapi.yaml")


def test_openapi_document_is_valid():
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    validate(document)

    paths = list(document.get("paths") or {})
    assert paths, "the document describes no paths"
    stray = [p for p in paths if not (p.startswith(ALLOWED_PREFIXES) or p == "/api/v1")]
    assert not stray, f"paths outside /api/v1, /health and /api/openapi.yaml: {stray}"
