"""Serving a released model: load its package (:mod:`.predictor`), answer HTTP (:mod:`.app`), build its image (:mod:`.image`)."""
