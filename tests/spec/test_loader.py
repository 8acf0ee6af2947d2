"""Every class of bad input gives exit-2 problems with file, line and field path, all in one run."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from cloudorch.errors import ExitCode, SpecError
from cloudorch.spec.loader import Vocabulary, load_stack, parse_stack
from tests.support import ROOT

VOCAB = Vocabulary(
    clouds=frozenset({"aws", "azure", "gcp"}),
    regions=frozenset({"eu-west-1", "westeurope", "europe-west4"}),
    geos=frozenset({"us", "eu", "apac"}),
)

GOOD = """\
stack: shop
resources:
  net:
    kind: network
    cidr: 10.0.0.0/16
  web:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
"""


def problems(text: str, vocab: Vocabulary = VOCAB) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_stack(textwrap.dedent(text), "shop.yaml", vocab)
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    return [str(p) for p in info.value.problems]


def test_good_stack_loads_with_lines():
    loaded = parse_stack(GOOD, "shop.yaml", VOCAB)
    assert loaded.stack.resources["web"].cpu == 2
    assert loaded.line_of("resources", "web", "cpu") == 9
    assert loaded.line_of("resources", "web", "no-such-field") == 6  # falls back to the parent


def test_wrong_type_names_file_line_and_path():
    assert problems(GOOD.replace("cpu: 2", "cpu: -4")) == ["shop.yaml:9: resources.web.cpu: must be a positive integer"]
    assert problems(GOOD.replace("cpu: 2", "cpu: two")) == ["shop.yaml:9: resources.web.cpu: must be an integer"]
    assert problems(GOOD.replace("memory_gb: 4", "memory_gb: lots")) == [
        "shop.yaml:10: resources.web.memory_gb: must be a number"]


def test_unknown_field():
    assert problems(GOOD + "    colour: blue\n") == ["shop.yaml:11: resources.web.colour: unknown field"]


def test_duplicate_keys_are_rejected_not_silently_merged():
    text = GOOD.replace("    cpu: 2\n", "    cpu: 2\n    cpu: 8\n")
    assert problems(text) == ["shop.yaml:10: resources.web.cpu: duplicate key (first defined on line 9)"]


def test_bad_cidr_and_public_or_tiny_ranges():
    assert "not a valid IPv4 CIDR" in problems(GOOD.replace("10.0.0.0/16", "10.0.0.0/33"))[0]
    assert "must be a private range" in problems(GOOD.replace("10.0.0.0/16", "8.8.0.0/16"))[0]
    assert "/20 or larger" in problems(GOOD.replace("10.0.0.0/16", "10.0.0.0/24"))[0]
    assert "host bits set" in problems(GOOD.replace("10.0.0.0/16", "10.0.0.1/16"))[0]


def test_unknown_regions_clouds_and_geos():
    text = GOOD.replace("resources:", "placement:\n  clouds: [aws, oracle]\n  geo: [mars]\n"
                                     "  regions: [eu-west-9]\nresources:")
    found = problems(text)
    assert "shop.yaml:3: placement.clouds[1]: unknown cloud 'oracle' (not among the installed providers)" in found
    assert any(p.startswith("shop.yaml:4: placement.geo[0]: unknown geography 'mars'") for p in found)
    assert any(p.startswith("shop.yaml:5: placement.regions[0]: unknown region 'eu-west-9'") and "eu-west-1" in p
               for p in found)


def test_dangling_and_wrong_kind_references():
    text = GOOD + "  assets:\n    kind: bucket\n    near: nowhere\n  db:\n    kind: database\n    network: assets\n" \
                  "    engine: postgres\n    version: '16'\n"
    found = problems(text)
    assert "shop.yaml:13: resources.assets.near: no resource named 'nowhere' (resources of kind compute/database: db, web)" \
        in found
    assert "shop.yaml:16: resources.db.network: 'assets' is a bucket, expected a network" in found


def test_ingress_from_unknown_resource_and_bad_source():
    text = GOOD + "    ingress:\n      - {port: 80, from: ghost}\n      - {port: 70000, from: 300.1.1.1/8}\n"
    found = problems(text)
    assert any("resources.web.ingress[0].from: no resource named 'ghost'" in p for p in found)
    assert any("resources.web.ingress[1].port" in p for p in found)
    assert any("resources.web.ingress[1].from" in p and "CIDR" in p for p in found)


def test_a_flow_declared_twice_is_refused_where_it_repeats():
    """Two entries with the same ports, protocol and source resource would be two flows of one id, their
    traffic billed twice; the same port over tcp and udp, or a repeated CIDR, are not that."""
    other = "  app:\n    kind: compute\n    network: net\n    cpu: 1\n    memory_gb: 1\n"
    ingress = ("    ingress:\n      - {port: 53, from: app, gb_month: 10}\n      - {port: 53, protocol: udp, from: app}\n"
               "      - {port: 53, to_port: 53, protocol: tcp, from: app, gb_month: 5}\n"
               "      - {port: 22, from: 10.1.0.0/16}\n      - {port: 22, from: 10.1.0.0/16}\n")
    assert problems(GOOD + ingress + other) == [
        "shop.yaml:14: resources.web.ingress[2]: repeats ingress[0] (the same ports, protocol and `from`): one flow "
        "is one entry; put the traffic of both in one gb_month"]
    without = ingress.replace("      - {port: 53, to_port: 53, protocol: tcp, from: app, gb_month: 5}\n", "")
    assert len(parse_stack(GOOD + without + other, "shop.yaml", VOCAB).stack.resources["web"].ingress) == 4


def test_near_cycle():
    text = GOOD + "    near: other\n  other:\n    kind: compute\n    network: net\n    cpu: 1\n    memory_gb: 1\n" \
                  "    near: web\n"
    assert any("`near` forms a cycle: other -> web -> other" in p for p in problems(text))


def test_unknown_kind_and_missing_required():
    text = GOOD + "  queue:\n    kind: kafka\n  db:\n    kind: database\n    network: net\n    engine: postgres\n"
    found = problems(text)
    assert any("resources.queue: unknown kind 'kafka'" in p for p in found)
    assert "shop.yaml:13: resources.db.version: required field is missing" in found


def test_every_problem_reported_in_one_run():
    text = GOOD.replace("cpu: 2", "cpu: 0").replace("memory_gb: 4", "memory_gb: x") + "    colour: red\n"
    assert len(problems(text)) == 3


def test_yaml_syntax_error_has_a_line():
    found = problems("stack: shop\nresources:\n  web: [unclosed\n")
    assert len(found) == 1 and found[0].startswith("shop.yaml:") and "YAML syntax error" in found[0]
    # the line where the parser stopped, and its short description rather than its whole report
    assert problems("stack: shop\nresources:\n  web: a: b\n  net: {}\n") == [
        "shop.yaml:3:9: YAML syntax error: mapping values are not allowed in this context"]


@pytest.mark.parametrize("text,message", [("", "file is empty"), ("   \n# only a comment\n", "file is empty"),
                                          ("- a\n- b\n", "must be a mapping")])
def test_empty_or_non_mapping_files(text, message):
    if "empty" in message:
        assert problems(text) == [f"shop.yaml: {message}"]
    else:
        assert problems(text) == ["shop.yaml:1: the stack file must be a mapping with `stack:` and `resources:`"]


def test_unreadable_files(tmp_path):
    with pytest.raises(SpecError, match="problem") as info:
        load_stack(tmp_path / "missing.yaml")
    assert "file not found" in str(info.value.problems[0])
    with pytest.raises(SpecError) as info:
        load_stack(tmp_path)
    assert "is a directory" in str(info.value.problems[0])
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"stack: shop\ndescription: caf\xe9\n")  # Latin-1
    with pytest.raises(SpecError) as info:
        load_stack(binary)
    assert str(info.value.problems[0]).endswith("bin.yaml:2:17: not UTF-8 text: byte 0xe9 cannot start or continue "
                                                "a character; a stack file must be UTF-8")


def test_an_unreadable_file_is_a_spec_error(tmp_path, monkeypatch):
    path = tmp_path / "locked.yaml"
    path.write_text(GOOD)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(SpecError) as info:
        load_stack(path)
    assert str(info.value.problems[0]).endswith(": cannot read: Permission denied")


@pytest.mark.parametrize("extra,expected", [
    ("  junk: 5\n", "shop.yaml:11: resources.junk: input should be a valid dictionary or object to extract fields from"),
    ("    near: [a, b]\n", "shop.yaml:11: resources.web.near: must be a string (quote it in YAML)"),
])
def test_a_resource_or_reference_of_the_wrong_shape_is_reported_not_crashed_on(extra, expected):
    assert problems(GOOD + extra) == [expected]


def test_a_reference_with_no_candidate_says_so():
    text = GOOD.replace("  net:\n    kind: network\n    cidr: 10.0.0.0/16\n", "").replace("network: net", "network: ghost")
    assert problems(text) == [
        "shop.yaml:5: resources.web.network: no resource named 'ghost' (resources of kind network: none)"]


def test_an_invalid_mapping_key_is_located_at_the_key():
    text = GOOD.replace("resources:", "tags: {" + "k" * 70 + ": v}\nresources:")
    assert problems(text) == [f"shop.yaml:2: tags.{'k' * 70}: string should have at most 63 characters"]


def test_loaded_stacks_and_vocabularies_are_immutable():
    import dataclasses

    loaded = parse_stack(GOOD, "shop.yaml", VOCAB)
    for value, field in ((loaded, "file"), (VOCAB, "clouds")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)


def test_models_are_frozen():
    loaded = parse_stack(GOOD, "shop.yaml", VOCAB)
    with pytest.raises(ValidationError, match="Instance is frozen") as info:
        loaded.stack.resources["web"].cpu = 8  # type: ignore[misc]
    assert [e["type"] for e in info.value.errors()] == ["frozen_instance"]
    with pytest.raises(ValidationError, match="Instance is frozen"):
        loaded.stack.stack = "other"  # type: ignore[misc]
    assert loaded.stack.resources["web"].cpu == 2 and loaded.stack.stack == "shop"


def test_example_stacks_load():
    for path in sorted((ROOT / "stacks").glob("*.yaml")):
        assert load_stack(path).stack.resources


def test_recursive_alias_is_a_located_error_not_a_crash():
    found = problems("stack: shop\nresources: &r\n  x: *r\n")
    assert len(found) == 1 and "alias refers to the mapping or list that contains it" in found[0]


def test_alias_bombs_are_refused():
    lines = ["stack: shop", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    found = problems("\n".join(lines) + "\nresources: {}\n")
    assert "expands to more than" in found[0]


def test_merge_keys_are_reported_plainly():
    text = "stack: shop\nbase: &b {kind: network}\nresources:\n  net:\n    <<: *b\n    cidr: 10.0.0.0/16\n"
    assert any("merge keys (<<) are not supported" in p for p in problems(text))


def test_unknown_image_is_located():
    vocab = Vocabulary(clouds=VOCAB.clouds, images=frozenset({"ubuntu-24.04", "debian-12"}))
    assert problems(GOOD + "    image: centos-7\n", vocab) == [
        "shop.yaml:11: resources.web.image: unknown image 'centos-7'; the installed providers resolve debian-12, "
        "ubuntu-24.04"]


@pytest.mark.parametrize("old,new,message", [
    ("cpu: 2", "cpu: 2\n    disk_gb: 4", "resources.web.disk_gb"),
    ("  web:", "  web--x:", "no two dashes in a row"),
])
def test_cloud_limits_are_checked_up_front(old, new, message):
    assert any(message in p for p in problems(GOOD.replace(old, new)))


def test_database_versions_are_checked_per_engine():
    text = GOOD + "  db:\n    kind: database\n    network: net\n    engine: postgres\n    version: '8.0'\n"
    assert any("postgres 8.0 is not offered" in p for p in problems(text))


def test_paths_are_shown_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    assert load_stack(tmp_path / "s" / "a.yaml").file == "s/a.yaml"
    assert load_stack("./s/../s/a.yaml").file == "s/a.yaml"


@pytest.mark.parametrize("field,value", [("near", "web"), ("apart", "[web]"), ("ingress", "[{port: 80, from: web}]")])
def test_a_resource_referring_to_itself_is_reported_once(field, value):
    path = {"near": "near", "apart": "apart[0]", "ingress": "ingress[0].from"}[field]
    assert problems(GOOD + f"    {field}: {value}\n") == [
        f"shop.yaml:11: resources.web.{path}: a resource cannot refer to itself"]


def test_a_near_cycle_is_reported_once_not_once_per_member():
    text = GOOD + "    near: b\n" + "".join(
        f"  {name}:\n    kind: compute\n    network: net\n    cpu: 1\n    memory_gb: 1\n    near: {target}\n"
        for name, target in (("b", "c"), ("c", "web")))
    assert [p for p in problems(text) if "cycle" in p] == [
        "shop.yaml:17: resources.b.near: `near` forms a cycle: b -> c -> web -> b"]


def test_at_most_five_regions_are_suggested():
    regions = frozenset({"us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-central1", "us-south1", "eu-west-1"})
    text = GOOD.replace("resources:", "placement:\n  regions: [us-north-9]\nresources:")
    assert problems(text, Vocabulary(clouds=VOCAB.clouds, regions=regions)) == [
        "shop.yaml:3: placement.regions[0]: unknown region 'us-north-9' (not among the catalog regions); "
        "did you mean us-central1, us-east-1, us-east-2, us-south1, us-west-1?"]


def test_excluded_regions_are_checked_against_the_catalog():
    text = GOOD.replace("resources:", "placement:\n  exclude_regions: [eu-west-1, westeurop]\nresources:")
    assert problems(text) == ["shop.yaml:3: placement.exclude_regions[1]: unknown region 'westeurop' "
                              "(not among the catalog regions); did you mean westeurope?"]
