from __future__ import annotations

import pytest

from cloudorch.cli.app import main
from cloudorch.config import load_config
from cloudorch.errors import SpecError
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")


def test_no_config_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    assert load_config().vcpu_quotas == {}


def test_bad_settings_are_reported_together(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('catalgo = 3\n[vcpu_quotas]\naws = -1\n')
    with pytest.raises(SpecError) as info:
        load_config(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:1: catalgo: unknown setting",
                                                     f"{path}:3: vcpu_quotas.aws: must be a positive number"]


def test_toml_syntax_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[vcpu_quotas\n")
    with pytest.raises(SpecError, match="problem") as info:
        load_config(path)
    assert "TOML syntax error" in str(info.value.problems[0])


def test_quota_for_unknown_cloud_or_region_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vcpu_quotas]\n"aws/xx-fake-1" = 10\n')
    assert main(["plan", WEBSHOP]) == 2
    assert "cloudorch.toml:2: vcpu_quotas.aws/xx-fake-1: unknown region 'xx-fake-1' of aws" in capsys.readouterr().err


def test_vpn_links_for_an_unknown_cloud_or_not_a_positive_count_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vpn_links_per_site]\nalibaba = 10\n')
    assert main(["plan", WEBSHOP]) == 2
    assert "cloudorch.toml:2: vpn_links_per_site.alibaba: unknown cloud 'alibaba'" in capsys.readouterr().err
    assert _problems(tmp_path, "[vpn_links_per_site]\naws = 0\n") == [
        "cloudorch.toml:2: vpn_links_per_site.aws: must be a positive number"]
    # a limit of the gateway itself (Azure's SKU, GCP's Cloud Router) is not the account's to raise
    (tmp_path / "cloudorch.toml").write_text('[vpn_links_per_site]\naws = 10\nazure = 20\n')
    assert main(["plan", WEBSHOP]) == 2
    assert ("cloudorch.toml:3: vpn_links_per_site.azure: azure's limit is not a quota an account can raise: a "
            "VpnGw1AZ gateway ends at most 30 site-to-site tunnels") in capsys.readouterr().err


def test_quotas_steer_placement(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vcpu_quotas]\ngcp = 4\n')
    assert main(["plan", WEBSHOP, "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    gcp_vcpus = sum(4 * p["count"] for p in plan["placements"] if p["cloud"] == "gcp" and p["kind"] == "compute")
    assert gcp_vcpus <= 4


def _problems(tmp_path, text: str | bytes) -> list[str]:
    path = tmp_path / "cloudorch.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(SpecError) as info:
        load_config(path)
    return [str(p).replace(f"{path}", "cloudorch.toml") for p in info.value.problems]


@pytest.mark.parametrize("text,expected", [
    # every kind of mistake in the file is reported at its line, as stack files' are
    ('project = "a"\n\ncatalgo = "x"\n', "cloudorch.toml:3: catalgo: unknown setting"),
    ("project = 5\n", "cloudorch.toml:1: project: must be a string (in quotes)"),
    ('project = "no spaces"\n', "cloudorch.toml:1: project: must be 1-100 letters, digits, '-', '_' or '.'"),
    ('catalog = ["x"]\n', "cloudorch.toml:1: catalog: must be a string (in quotes)"),
    ('policy_dirs = "x"\n', "cloudorch.toml:1: policy_dirs: must be a list (in brackets)"),
    ('policy_dirs = [\n  "a",\n  3,\n]\n', "cloudorch.toml:1: policy_dirs[1]: must be a string (in quotes)"),
    ("vcpu_quotas = 3\n", "cloudorch.toml:1: vcpu_quotas: must be a table"),
    ('[vcpu_quotas]\naws = 1\n"gcp/europe-west4" = "many"\n', "cloudorch.toml:3: vcpu_quotas.gcp/europe-west4: must be a number"),
    ("[vcpu_quotas]\naws = true\n", "cloudorch.toml:2: vcpu_quotas.aws: must be a number"),
    ("[vcpu_quotas]\naws = nan\n", "cloudorch.toml:2: vcpu_quotas.aws: must be a finite number"),
    ("[vcpu_quotas]\naws = 1e12\n", "cloudorch.toml:2: vcpu_quotas.aws: must be at most 10,000,000 (see Limits in the README)"),
    ("vcpu_quotas.aws = 0\n", "cloudorch.toml:1: vcpu_quotas.aws: must be a positive number"),
    ('[enforcement]\n"x.y" = "maybe"\n', "cloudorch.toml:2: enforcement.x.y: must be one of 'advisory', 'mandatory' or 'disabled'"),
    ('[[capacity_failures]]\ncloud = "aws"\nregion = "r"\ninstance_type = "t"\n'
     '[[capacity_failures]]\ncloud = "aws"\nregion = "r"\ninstance_type = "t"\ncount = 1e20\n',
     "cloudorch.toml:9: capacity_failures[1].count: must be an integer"),
    ('[[capacity_failures]]\ncloud = "aws"\nregion = "r"\ninstance_type = "t"\ncount = 100000000\n',
     "cloudorch.toml:5: capacity_failures[0].count: must be at most 1,000 (see Limits in the README)"),
    ('[[capacity_failures]]\ncloud = "aws"\nregion = "r"\n', "cloudorch.toml:1: capacity_failures[0].instance_type: required setting is missing"),
    ('capacity_failures = [{cloud = "aws", region = "r", instance_type = "t", count = true}]\n',
     "cloudorch.toml:1: capacity_failures[0].count: must be an integer"),
    ('backend_url = """\n[vcpu_quotas]\n"""\nsecrets_provider = 1\n', "cloudorch.toml:4: secrets_provider: must be a string (in quotes)"),
    # text tomllib cannot read: its place, taken out of its message
    ("[vcpu_quotas\n", "cloudorch.toml:1:13: TOML syntax error: Expected ']' at the end of a table declaration"),
    ("x = 2027-02-30\n", "cloudorch.toml:1:5: TOML syntax error: Invalid date or datetime"),
    ('project = "a"\nx = """abc\n', "cloudorch.toml:3:1: TOML syntax error: Unterminated string at the end of the file"),
    ("\n\nx = " + "9" * 5000 + "\n", "cloudorch.toml:3:5: a number with too many digits"),
    ("x = " + "[" * 1000 + "]" * 1000 + "\n", "cloudorch.toml:1:69: arrays or tables nested too deeply"),
    ("x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n", "cloudorch.toml:1:325: arrays or tables nested too deeply"),
])
def test_every_config_problem_has_its_line(tmp_path, text, expected):
    assert _problems(tmp_path, text) == [expected]


def test_a_utf16_config_says_to_convert_it(tmp_path):
    path = tmp_path / "cloudorch.toml"
    path.write_text('project = "shop"\n', encoding="utf-16")
    with pytest.raises(SpecError) as info:
        load_config(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:1: the file is UTF-16-encoded; a config file must be UTF-8"]
    assert info.value.hint.startswith("convert it, e.g. `iconv -f UTF-16 -t UTF-8")


def test_a_config_that_is_not_a_file_is_refused_at_once(tmp_path):
    for path, message in (("/dev/zero", "is not a regular file"), (str(tmp_path), "is a directory"),
                          (str(tmp_path / "missing.toml"), "config file not found")):
        with pytest.raises(SpecError) as info:
            load_config(path)
        assert message in str(info.value.problems[0])


def test_key_lines_follow_tables_arrays_and_strings():
    from cloudorch.config import key_lines

    text = ('project = "x"\n'                              # 1
            'a.b."c.d" = 1\n'                              # 2
            "notes = '''\n"                              # 3
            "[fake]\n"                                     # 4: inside a string
            "'''\n"                                      # 5
            "dirs = [\n"                                   # 6
            '  ["x"],\n'                                   # 7: inside an array
            "]\n"                                          # 8
            "[[capacity_failures]]\n"                      # 9
            "cloud = \"aws\"\n"                            # 10
            "[[capacity_failures]]\n"                      # 11
            "count = 2\n"                                  # 12
            '[ "vcpu_quotas" ]\n'                          # 13
            '"gcp/europe-west4" = 96\n')                   # 14
    assert key_lines(text) == {
        (): 1, ("project",): 1, ("a",): 2, ("a", "b"): 2, ("a", "b", "c.d"): 2, ("notes",): 3, ("dirs",): 6,
        ("capacity_failures",): 9, ("capacity_failures", 0): 9, ("capacity_failures", 0, "cloud"): 10,
        ("capacity_failures", 1): 11, ("capacity_failures", 1, "count"): 12,
        ("vcpu_quotas",): 13, ("vcpu_quotas", "gcp/europe-west4"): 14,
    }


# Found by a user audit: a config's problems came in rounds (its types, then its quota keys, then the VPN
# links the clouds take), and `validate` said ok under a config `plan` refused.
EVERY_KIND = ('[vpn_links_per_site]\nazure = 10\ngcp = 0\naws = 1.5\n'
              '[vcpu_quotas]\nibm = 5\n"aws/xx-fake-1" = 3\n')
EVERY_PROBLEM = [
    "cloudorch.toml:2: vpn_links_per_site.azure: azure's limit is not a quota an account can raise: a VpnGw1AZ "
    "gateway ends at most 30 site-to-site tunnels, and a link takes four",
    "cloudorch.toml:3: vpn_links_per_site.gcp: gcp's limit is not a quota an account can raise: a Cloud Router "
    "takes at most 128 BGP peers, and a link has up to four on the site's router",
    "cloudorch.toml:3: vpn_links_per_site.gcp: must be a positive number",
    "cloudorch.toml:4: vpn_links_per_site.aws: must be an integer",
    "cloudorch.toml:6: vcpu_quotas.ibm: unknown cloud 'ibm' (installed: aws, azure, gcp)",
    "cloudorch.toml:7: vcpu_quotas.aws/xx-fake-1: unknown region 'xx-fake-1' of aws",
]


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_every_problem_of_the_config_is_reported_at_once(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text(EVERY_KIND)
    assert main([command, WEBSHOP]) == 2
    err = capsys.readouterr().err
    assert [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")] == EVERY_PROBLEM
    assert "6 problems in cloudorch.toml" in err


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_validate_refuses_the_config_plan_refuses(tmp_path, monkeypatch, capsys, command):
    """The types are right: only the installed clouds and the catalog can tell these are wrong."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vpn_links_per_site]\nazure = 10\n[vcpu_quotas]\n"aws/xx-fake-1" = 3\n')
    assert main([command, WEBSHOP]) == 2
    err = capsys.readouterr().err
    assert "cloudorch.toml:2: vpn_links_per_site.azure: azure's limit is not a quota an account can raise" in err
    assert "cloudorch.toml:4: vcpu_quotas.aws/xx-fake-1: unknown region 'xx-fake-1' of aws" in err
    assert "2 problems in cloudorch.toml" in err


def test_names_are_judged_beside_a_wrong_value_and_a_wrong_catalog(tmp_path, monkeypatch, capsys):
    """A key is judged even where its value is refused; a catalog setting that is refused judges no region
    (the regions of another catalog would be the wrong ones), a catalog directory that is missing is located."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('catalog = 5\n[vpn_links_per_site]\ngpc = 0\n'
                                             '[vcpu_quotas]\n"aws/xx-fake-1" = 3\n')
    assert main(["validate", WEBSHOP]) == 2
    assert [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")] == [
        "error: cloudorch.toml:1: catalog: must be a string (in quotes)",
        "error: cloudorch.toml:3: vpn_links_per_site.gpc: must be a positive number",
        "error: cloudorch.toml:3: vpn_links_per_site.gpc: unknown cloud 'gpc' (installed: aws, azure, gcp)"]
    (tmp_path / "cloudorch.toml").write_text('catalog = "nowhere"\nextra = 1\n[vcpu_quotas]\n"aws/xx-fake-1" = 3\n')
    assert main(["validate", WEBSHOP]) == 2
    err = capsys.readouterr().err
    assert "cloudorch.toml:1: catalog: catalog directory" in err and "nowhere' does not exist" in err
    assert "cloudorch.toml:2: extra: unknown setting" in err
