"""The JSON API under /api, one router per subject."""
