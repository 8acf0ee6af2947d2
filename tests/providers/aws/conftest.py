from __future__ import annotations

import pytest

from tests.providers.aws.stand_ins import Account, Replay, SpotScores, account_environment, start_moto


@pytest.fixture(scope="session")
def moto_url():
    proc, url = start_moto()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def aws_account(moto_url, monkeypatch, tmp_path):
    """EC2 in moto (reset for each test) behind a front answering spot placement scores, pricing and quotas
    replayed, credentials and endpoints in the environment."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()
    replay, spot = Replay(), SpotScores(moto_url)
    account_environment(monkeypatch, tmp_path, spot.url, replay.url)
    yield Account(moto_url, replay, spot)
    spot.close()
    replay.close()
