from __future__ import annotations

import pytest

from tests.providers.aws.stand_ins import FEW_FAMILIES, Account, Replay, SpotScores, account_environment, start_moto


def _moto(families: tuple[str, ...] = ()):
    proc, url = start_moto(families)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_url():
    yield from _moto()


@pytest.fixture(scope="session")
def few_types_moto_url():
    """moto knowing only the instance families of ``FEW_FAMILIES``: for tests of what is done with a
    catalog, not of reading one of AWS's size."""
    yield from _moto(FEW_FAMILIES)


def _account(moto_url, monkeypatch, tmp_path):
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()
    replay, spot = Replay(), SpotScores(moto_url)
    account_environment(monkeypatch, tmp_path, spot.url, replay.url)
    yield Account(moto_url, replay, spot)
    spot.close()
    replay.close()


@pytest.fixture
def aws_account(moto_url, monkeypatch, tmp_path):
    """EC2 in moto (reset for each test) behind a front answering spot placement scores, pricing and quotas
    replayed, credentials and endpoints in the environment."""
    yield from _account(moto_url, monkeypatch, tmp_path)


@pytest.fixture
def few_types_account(few_types_moto_url, monkeypatch, tmp_path):
    """``aws_account`` whose EC2 offers only the families of ``FEW_FAMILIES``."""
    yield from _account(few_types_moto_url, monkeypatch, tmp_path)
