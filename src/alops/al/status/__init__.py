"""``alops al status``: where the loop stands (:mod:`.run`) and its learning curve as a PNG (:mod:`.plot`)."""
