"""Spot placement scores (EC2 GetSpotPlacementScores), read with the offerings: moto has no such action, so
the stand-in account's front server answers it in the EC2 Query API's XML (``stand_ins.SpotScores``) and
passes every other EC2 call to moto."""

from __future__ import annotations

from cloudorch.catalog.cache import cache_dir
from cloudorch.catalog.live import live_catalog_dir, read_spot_scores
from cloudorch.provider import DiscoveryScope
from cloudorch_aws.discovery import AwsDiscovery
from tests.providers.aws.stand_ins import product
from tests.providers.aws.test_catalog_cli import run

OFFERINGS = frozenset({DiscoveryScope.OFFERINGS})
DENIED = (403, "UnauthorizedOperation", "You are not authorized to perform this operation.")


def calls(account, family: str | None = None) -> list[dict[str, list[str]]]:
    return [p for p in account.spot.asked
            if family is None or p.get("InstanceType.1", [""])[0].split(".")[0] == family]


def listed(params: dict[str, list[str]], name: str) -> list[str]:
    return [params[f"{name}.{i}"][0] for i in range(1, len(params) + 1) if f"{name}.{i}" in params]


def test_scores_are_read_per_family_for_the_regions_together_following_next_token(aws_account):
    # two pages; a region not asked about (ap-south-1) is never kept
    aws_account.spot.scores["m5"] = [[("us-east-1", 9)], [("eu-west-1", 2), ("ap-south-1", 5)]]
    found = AwsDiscovery().discover(["us-east-1", "eu-west-1"], OFFERINGS)

    assert not found.missing
    m5 = calls(aws_account, "m5")
    assert len(m5) == 2 and "NextToken" not in m5[0] and m5[1]["NextToken"] == ["1"]
    asked = m5[0]
    assert listed(asked, "RegionName") == ["eu-west-1", "us-east-1"]
    assert asked["TargetCapacity"] == ["1"] and asked["SingleAvailabilityZone"] == ["false"]
    m5_types = listed(asked, "InstanceType")
    assert len(m5_types) >= 3 and all(t.startswith("m5.") for t in m5_types)
    by_key = {(s.region, s.instance_type): s for s in found.spot_scores}
    offered = {(m.region, m.instance_type) for m in found.machines if m.instance_type in m5_types}
    assert {k: (s.score, s.group) for k, s in by_key.items() if k[1].startswith("m5.")} == {
        k: (9 if k[0] == "us-east-1" else 2, "m5") for k in offered}
    assert all(s.region in ("us-east-1", "eu-west-1") for s in found.spot_scores)


def test_each_call_scores_one_family_of_three_or_more_spot_types(aws_account):
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert not found.missing and found.spot_scores == ()  # the front scored no family
    families = [listed(p, "InstanceType") for p in calls(aws_account)]
    assert families and all(len(types) >= 3 and len({t.split(".")[0] for t in types}) == 1 for types in families)
    asked = {types[0].split(".")[0] for types in families}
    spot_types = {}
    for m in found.machines:
        spot_types.setdefault(m.instance_type.split(".")[0], set()).add(m.instance_type)
    assert "m5" in asked and "m1" in asked  # every generation
    assert {f for f, types in spot_types.items() if len(types) < 3} & asked == set()
    assert len(families) == len(asked)  # one call per family: one region, nothing paged


def test_no_permission_skips_the_scores_with_one_line_and_keeps_the_offerings(aws_account):
    aws_account.spot.faults = [DENIED]
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert found.machines and found.spot_scores == ()
    assert found.missing == ("spot placement scores not read: UnauthorizedOperation: "
                             "You are not authorized to perform this operation.",)
    assert len(calls(aws_account)) == 1  # denied once: never asked again


def test_throttling_is_retried_and_past_the_retries_the_rest_is_said_unscored(aws_account):
    throttled = (503, "RequestLimitExceeded", "Request limit exceeded.")
    aws_account.spot.scores["m5"] = [[("us-east-1", 7)]]
    aws_account.spot.faults = [throttled]
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert not found.missing and {s.score for s in found.spot_scores} == {7}

    aws_account.spot.asked.clear()
    aws_account.spot.faults = [throttled] * 5  # the discovery's botocore config: 4 retries after the first try
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert found.machines and found.spot_scores == () and len(calls(aws_account)) == 5
    (line,) = found.missing
    assert line.startswith("spot placement scores not read: RequestLimitExceeded: Request limit exceeded. (0 of ")
    assert line.endswith(" score calls answered; none kept, so no family stands scored beside unscored ones)")


def test_past_the_daily_configuration_limit_no_score_is_kept_and_the_line_says_how_to_narrow(aws_account, monkeypatch):
    # c5 is answered, then AWS refuses m5's new configuration: a half-scored catalog would make m5 look
    # more available than c5 for want of a score, so nothing is kept
    from tests.providers.aws.stand_ins import ec2_error_xml

    aws_account.spot.scores["c5"] = [[("us-east-1", 7)]]
    monkeypatch.setenv("CLOUDORCH_AWS_SPOT_SCORE_FAMILIES", "m5, c5")
    answer = aws_account.spot.answer

    def limited(params):
        if params["InstanceType.1"][0].startswith("m5."):
            return 400, ec2_error_xml("MaxConfigLimitExceeded", "You have exceeded your maximum allowed Spot "
                                      "placement configurations.")
        return answer(params)

    monkeypatch.setattr(aws_account.spot, "answer", limited)
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert found.machines and found.spot_scores == ()
    (line,) = found.missing
    assert "MaxConfigLimitExceeded" in line and "(1 of 2 score calls answered; none kept" in line
    assert "CLOUDORCH_AWS_SPOT_SCORE_FAMILIES" in line


def test_the_families_asked_can_be_narrowed(aws_account, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_AWS_SPOT_SCORE_FAMILIES", "m5,c5")
    aws_account.spot.scores["m5"] = [[("us-east-1", 6)]]
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)
    assert not found.missing
    assert sorted({listed(p, "InstanceType")[0].split(".")[0] for p in calls(aws_account)}) == ["c5", "m5"]
    assert {s.group for s in found.spot_scores} == {"m5"}


def test_refresh_writes_the_scores_and_a_denied_permission_does_not_fail_it(few_types_account, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text("")
    few_types_account.serve([product("m5.xlarge", 0.214)], {"L-1216C47A": 640.0})
    few_types_account.spot.faults = [DENIED]
    code, _, err = run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1")
    assert code == 0, err
    assert "fetched aws offerings" in err and "UnauthorizedOperation" in err
    assert read_spot_scores(live_catalog_dir(cache_dir())) == {"aws": []}

    few_types_account.spot.scores["m5"] = [[("eu-west-1", 4)]]
    code, _, err = run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1", "--stale-only")
    assert code == 0 and "fresh" in err  # the offerings are an hour fresh: no new call
    code, _, err = run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1")
    assert code == 0, err
    scores = {s.instance_type: s.score for s in read_spot_scores(live_catalog_dir(cache_dir()))["aws"]}
    assert scores["m5.xlarge"] == 4 and set(scores.values()) == {4}


def test_scores_answered_out_of_order_are_kept_whole_in_call_order(aws_account, monkeypatch):
    import time

    families = ["c5", "m5", "r5", "t3"]
    monkeypatch.setenv("CLOUDORCH_AWS_SPOT_SCORE_FAMILIES", ",".join(families))
    for score, family in enumerate(families, 1):
        aws_account.spot.scores[family] = [[("us-east-1", score)]]
    answer = aws_account.spot.answer

    def later_calls_answer_first(params):
        time.sleep(0.3 * (len(families) - families.index(params["InstanceType.1"][0].split(".")[0])))
        return answer(params)  # records the call in ``asked`` as it is answered

    monkeypatch.setattr(aws_account.spot, "answer", later_calls_answer_first)
    found = AwsDiscovery().discover(["us-east-1"], OFFERINGS)

    assert not found.missing
    answered = [listed(p, "InstanceType") for p in calls(aws_account)]
    assert [types[0].split(".")[0] for types in answered] != families  # answered concurrently, out of order
    expected = [("us-east-1", t, score, family) for score, family in enumerate(families, 1)
                for types in answered if types[0].startswith(family + ".") for t in types]
    assert [(s.region, s.instance_type, s.score, s.group) for s in found.spot_scores] == expected


def test_the_calls_said_answered_are_those_before_the_failure_whatever_came_back_after_it():
    # calls in flight beside the failing one may or may not be answered, by timing: the line says the same
    from cloudorch_aws.discovery import _before_first_gap

    assert _before_first_gap([[1], [2], None, [4]]) == _before_first_gap([[1], [2], None, None]) == 2
    assert _before_first_gap([[1], [2]]) == 2
