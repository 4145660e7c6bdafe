"""Job images named by the hash of what goes into them (``alops image``).

:mod:`alops.image.inputs` hashes a Dockerfile and its inputs into a tag
(``NAME:deps-<16 hex>``); :mod:`alops.image.registry` asks this project's
container registry whether that tag is built already, and for its digest.
"""
