"""``alops al simulate``: the loop on labelled data (:mod:`.run`), its data (:mod:`.data`) and curves (:mod:`.plot`)."""
