"""A project's root and name: where state lives and what its stacks are called on a backend."""

from __future__ import annotations

import pytest

from cloudorch.errors import UsageError
from cloudorch.project import (
    LEGACY_PROJECT,
    StackIdentity,
    derive_name,
    locate,
    pin_file,
    record,
    resolve,
    state_dir,
)


@pytest.fixture(autouse=True)
def _no_config_from_the_environment(monkeypatch):
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)


def test_the_root_is_the_nearest_config_then_the_repository_top_then_the_working_directory(tmp_path):
    deep = tmp_path / "repo" / "infra" / "stacks"
    deep.mkdir(parents=True)
    assert locate(start=deep).root == deep  # neither above: the working directory
    (tmp_path / "repo" / ".git").mkdir()
    assert locate(start=deep) == locate(start=tmp_path / "repo")
    assert locate(start=deep).root == tmp_path / "repo" and locate(start=deep).config_file is None
    (tmp_path / "repo" / "infra" / "cloudorch.toml").write_text("")
    found = locate(start=deep)
    assert (found.root, found.config_file, found.explicit) == (tmp_path / "repo" / "infra",
                                                               tmp_path / "repo" / "infra" / "cloudorch.toml", False)


def test_a_config_above_the_repository_top_is_not_the_projects(tmp_path):
    (tmp_path / "cloudorch.toml").write_text("")  # e.g. in the home directory
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert locate(start=tmp_path / "repo").config_file is None


def test_an_explicit_config_fixes_the_root_wherever_the_command_runs(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    named = locate(tmp_path / "team" / "ci.toml", start=elsewhere)
    assert (named.root, named.explicit) == (tmp_path / "team", True)
    monkeypatch.setenv("CLOUDORCH_CONFIG", str(tmp_path / "env.toml"))
    assert locate(start=elsewhere).root == tmp_path


def test_the_name_comes_from_config_then_the_pin_then_the_directory(tmp_path):
    root = tmp_path / "Shop Front!"
    root.mkdir()
    location = locate(start=root)
    assert resolve(location, None, cwd=root).name == "Shop-Front" == derive_name(root)
    assert resolve(location, None, cwd=root).source == "derived"
    record(root, "shop")
    assert (resolve(location, None, cwd=root).name, resolve(location, None, cwd=root).source) == ("shop", "pinned")
    assert resolve(location, "team-shop", cwd=root).source == "config"
    assert resolve(location, "team-shop", cwd=root).identity("webshop") == StackIdentity("team-shop", "webshop")


def test_a_renamed_directory_keeps_its_pinned_name(tmp_path):
    root = tmp_path / "shop"
    root.mkdir()
    record(root, resolve(locate(start=root), None, cwd=root).name)
    renamed = root.rename(tmp_path / "shop-old")
    assert resolve(locate(start=renamed), None, cwd=renamed).name == "shop"


def test_state_from_before_projects_had_names_keeps_the_old_name(tmp_path):
    (state_dir(tmp_path) / ".pulumi").mkdir(parents=True)
    project = resolve(locate(start=tmp_path), None, cwd=tmp_path)
    assert (project.name, project.source) == (LEGACY_PROJECT, "legacy")


def test_state_left_in_a_subdirectory_is_not_silently_abandoned(tmp_path):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "stacks"
    (state_dir(sub) / ".pulumi").mkdir(parents=True)  # an earlier version ran here, in the subdirectory
    with pytest.raises(UsageError) as caught:
        resolve(locate(start=sub), None, cwd=sub)
    assert str(tmp_path) in caught.value.message and "cloudorch.toml" in caught.value.hint


def test_a_broken_pin_is_reported(tmp_path):
    pin_file(tmp_path).parent.mkdir()
    pin_file(tmp_path).write_text("not a name!\n")
    with pytest.raises(UsageError, match="not a project name"):
        resolve(locate(start=tmp_path), None, cwd=tmp_path)


@pytest.mark.parametrize("project,stack", [("", "web"), ("a b", "web"), ("shop", "a/b"), ("x" * 101, "web")])
def test_an_identity_is_always_valid(project, stack):
    with pytest.raises(ValueError):
        StackIdentity(project, stack)
    assert str(StackIdentity("shop", "web")) == "shop/web"


def test_threads_pinning_the_project_at_once_do_not_trip_over_each_other(tmp_path):
    # a workflow applies independent stacks in threads of one process: each pins the name on its first run
    import threading

    errors = []

    def pin():
        try:
            for _ in range(50):
                record(tmp_path, "shop")
                pin_file(tmp_path).unlink(missing_ok=True)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=pin) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
