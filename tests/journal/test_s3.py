"""An s3:// journal on moto's S3 server: conditional creates, and two processes racing to append."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from cloudorch.errors import UsageError
from cloudorch.journal import Journal
from tests.support import ROOT

boto3 = pytest.importorskip("boto3")


@pytest.fixture(scope="module")
def moto():
    from tests.providers.aws.stand_ins import start_moto

    proc, url = start_moto()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3(moto, monkeypatch):
    urllib.request.urlopen(urllib.request.Request(f"{moto}/moto-api/reset", method="POST")).close()
    env = {"AWS_ENDPOINT_URL": moto, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket="team-journal")
    return env


def test_moto_honours_if_none_match(s3):
    """What the race test relies on, checked rather than assumed: a second conditional put is refused (412)."""
    client = boto3.client("s3")
    client.put_object(Bucket="team-journal", Key="k", Body=b"1", IfNoneMatch="*")
    with pytest.raises(client.exceptions.ClientError) as refused:
        client.put_object(Bucket="team-journal", Key="k", Body=b"2", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert client.get_object(Bucket="team-journal", Key="k")["Body"].read() == b"1"


def test_an_s3_journal_appends_verifies_and_locks(s3, tmp_path):
    journal = Journal.open(tmp_path, "s3://team-journal/prod/journal", environ={})
    for i in range(3):
        journal.append("apply", stack="web", outcome="succeeded", attempt=i)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="team-journal")["Contents"]]
    assert "prod/journal/records/000000000003.json" in keys
    assert journal.verify().ok and journal.verify().count == 3
    assert not (tmp_path / ".cloudorch").exists()
    with journal.lock("release-1"):
        assert Journal.open(tmp_path, "s3://team-journal/prod/journal", environ={}).lock_state().holder == "release-1"
    assert journal.lock_state() is None
    client = boto3.client("s3")
    body = client.get_object(Bucket="team-journal", Key="prod/journal/records/000000000002.json")["Body"].read()
    client.put_object(Bucket="team-journal", Key="prod/journal/records/000000000002.json",
                      Body=body.replace(b"succeeded", b"failed!!!"))
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (2, "edited")


RACER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from cloudorch.journal import Journal

    name, count, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    journal = Journal.open(Path("."), "s3://team-journal/race", environ={})
    lost = 0
    create = journal.store.create
    def counting(key, data):
        global lost
        won = create(key, data)
        lost += not won
        return won
    journal.store.create = counting
    while time.time() < start:
        time.sleep(0.001)
    for i in range(count):
        journal.append("apply", stack=name, outcome="succeeded", writer=name, i=i)
    print(json.dumps({"lost": lost}))
""")


def test_two_processes_racing_lose_and_duplicate_nothing(s3, tmp_path):
    """Two runners append at once to one S3 journal: every record lands exactly once, the chain verifies,
    and the races really happened (each lost create is one)."""
    count = 60
    env = {**os.environ, **s3, "PYTHONPATH": str(ROOT)}
    start = time.time() + 3  # both interpreters up before either writes
    racers = [subprocess.Popen([sys.executable, "-c", RACER, name, str(count), str(start)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    lost = sum(r["lost"] for r in results)
    journal = Journal.open(tmp_path, "s3://team-journal/race", environ={})
    entries = journal.entries()
    assert len(entries) == 2 * count
    assert sorted((e.fields["writer"], e.fields["i"]) for e in entries) == sorted(
        (w, i) for w in "ab" for i in range(count))
    verification = journal.verify()
    assert verification.ok and verification.count == 2 * count
    print(f"{lost} races lost over {2 * count} appends")
    assert lost >= 50, f"only {lost} races happened"


def test_unsupported_schemes_are_refused_with_what_is_supported(tmp_path):
    for url in ("gs://b/p", "azblob://c/p", "ftp://x/y"):
        with pytest.raises(UsageError) as refused:
            Journal.open(tmp_path, url, environ={})
        assert "s3://" in refused.value.hint


def test_a_journal_url_never_shows_its_credentials(tmp_path):
    with pytest.raises(UsageError) as refused:
        Journal.open(tmp_path, "gs://bucket/p?token=sekr1t-value", environ={})
    assert "sekr1t" not in refused.value.message
