from __future__ import annotations

import pytest

from tests.providers.aws.stand_ins import Account, Replay, account_environment, start_moto


@pytest.fixture(scope="session")
def moto_url():
    proc, url = start_moto()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def aws_account(moto_url, monkeypatch, tmp_path):
    """EC2 in moto (reset for each test), pricing and quotas replayed, credentials and endpoints in the environment."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()
    replay = Replay()
    account_environment(monkeypatch, tmp_path, moto_url, replay.url)
    yield Account(moto_url, replay)
    replay.close()
