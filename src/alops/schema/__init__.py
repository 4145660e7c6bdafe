"""The JSON Schema of ``alops.yaml`` (``alops.schema.json``) and its compiled check."""
