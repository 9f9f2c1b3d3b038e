"""The HTML pages: an unknown campaign or trial is a 404 page that says so."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Shared


@pytest.mark.parametrize("path", ["/campaigns/999", "/campaigns/999/rate", "/trials/999"])
def test_unknown_ids_answer_404_with_a_page_that_says_so(shared: Shared, path: str) -> None:
    response = shared.client.get(path)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert 'id="not-found"' in response.text and "999" in response.text


def test_known_ids_still_get_their_page(shared: Shared) -> None:
    campaign = shared.populated.campaign.id
    trial = shared.populated.trials[0].id
    for path in (f"/campaigns/{campaign}", f"/campaigns/{campaign}/rate", f"/trials/{trial}"):
        assert shared.client.get(path).status_code == 200, path
