"""Tokens chosen in a deployment's .env are stored when `codecnas serve` starts, once."""

from __future__ import annotations

import pytest

from codecnas.serve_commands import bootstrap_tokens
from nas.errors import InvalidValueError
from nas.storage.access import Role

ADMIN = "adm-" + "a" * 28
AGENT = "agt-" + "b" * 28


def test_env_tokens_authenticate_with_their_roles_and_restarts_add_nothing(store) -> None:
    environ = {"CODECNAS_ADMIN_TOKEN": ADMIN, "CODECNAS_AGENT_TOKEN": AGENT}
    assert bootstrap_tokens(store, environ) == ["CODECNAS_ADMIN_TOKEN", "CODECNAS_AGENT_TOKEN"]
    bootstrap_tokens(store, environ)  # a restart
    assert len(store.tokens()) == 2
    assert store.authenticate(ADMIN).role == Role.ADMIN
    assert store.authenticate(AGENT).role == Role.AGENT


def test_placeholders_and_empty_values_are_not_stored(store) -> None:
    environ = {"CODECNAS_ADMIN_TOKEN": "CHANGE_ME", "CODECNAS_AGENT_TOKEN": ""}
    assert bootstrap_tokens(store, environ) == []
    assert store.tokens() == []


def test_one_secret_is_never_given_two_roles(store) -> None:
    bootstrap_tokens(store, {"CODECNAS_ADMIN_TOKEN": ADMIN})
    with pytest.raises(InvalidValueError, match="stored already as token 1 \\(admin\\)"):
        bootstrap_tokens(store, {"CODECNAS_AGENT_TOKEN": ADMIN})
    with pytest.raises(InvalidValueError, match="at least 16 characters"):
        store.ensure_token("short", Role.AGENT, "tiny")
