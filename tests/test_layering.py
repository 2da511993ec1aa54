"""Layers only point down: the models import no query helper, search or page module.

models -> (nothing of ours but vocabulary, geo, states, text); rows and selectors read
models; search/ reads selectors; views and api/ orchestrate. A circle here once made
models.py import selectors inside a method.
"""

import ast
from pathlib import Path

import facilities

APP = Path(facilities.__file__).parent
# What models.py may import from the app: leaf modules with no models of their own.
MODEL_DEPENDENCIES = {"vocabulary", "geo", "states", "text"}


def imported_modules(path):
    """The app's modules a file imports, anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            module = node.module or ""
            if module:
                found.add(module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("facilities."):
            found.add(node.module.split(".")[1])
    return found


def test_models_import_no_query_helper_search_or_page_module():
    assert imported_modules(APP / "models.py") <= MODEL_DEPENDENCIES


def test_query_helpers_import_no_page_or_api_module():
    for name in ("rows.py", "selectors.py", "data_version.py"):
        imported = imported_modules(APP / name)
        assert not imported & {"views", "api", "exports", "forms", "admin"}, name
    # search/params.py is the table every layer reads: it reads nothing but leaves.
    assert imported_modules(APP / "search" / "params.py") <= {"vocabulary", "states"}


def test_the_listing_queryset_overrides_no_private_django_method():
    from facilities.models import FacilityQuerySet, VersionedQuerySet

    for queryset in (FacilityQuerySet, VersionedQuerySet):
        private = [name for name in vars(queryset) if name.startswith("_") and name[1] != "_"]
        assert private == [], queryset
