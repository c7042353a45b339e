"""Validates Coffre's OpenAPI document as OpenAPI 3.1 with an independent validator."""

import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator


def main(path: str) -> None:
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    version = document.get("openapi", "")
    if not version.startswith("3.1"):
        sys.exit(f"expected OpenAPI 3.1, got {version!r}")
    validate(document, cls=OpenAPIV31SpecValidator)
    operations = sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    )
    print(f"valid OpenAPI {version}: {len(document['paths'])} paths, {operations} operations")


if __name__ == "__main__":
    main(sys.argv[1])
