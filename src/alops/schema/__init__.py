"""The JSON Schema of ``alops.yaml`` (``alops.schema.json``): what is allowed, and every default.

The schema's ``default`` keywords are the one place a default of ``alops.yaml``
is written down: editors show them (the file's ``$schema`` line), ``alops config
schema`` prints them, and :func:`alops.schema.defaults.apply_defaults` fills them
in after validation, on a copy. ``_check.py`` is the same schema compiled to a
quick yes/no check (``python -m alops.schema``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FILE = Path(__file__).with_name("alops.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of ``alops.yaml``, as shipped in the package (do not modify it)."""
    # A plain read beside this module: importlib.resources costs ~6 ms of imports
    # (zipfile, tempfile) at every start, and alops is always installed unzipped.
    return json.loads(FILE.read_text("utf-8"))  # type: ignore[no-any-return]
