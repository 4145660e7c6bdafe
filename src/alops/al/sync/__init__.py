"""``alops al sync``: an al branch's data versions into this branch (:mod:`.run`), its refs and its commit."""
