"""Where the CLI finds the broker and admin token: flags > env > files > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from dome.cli.connection import (
    DEFAULT_URL,
    resolve_connection,
    resolve_data_dir,
    resolve_token,
    resolve_url,
)
from dome.cli.errors import AdminTokenMissingError, ConnectionSettingsError

from .fake_admin import ADMIN_TOKEN, FakeAdminApi
from .harness import Dome, assert_exit


def make_data_dir(root: Path, *, url: str | None = None, token: str | None = None) -> Path:
    root.mkdir(parents=True)
    if url is not None:
        (root / "broker.url").write_text(url + "\n", encoding="utf-8")
    if token is not None:
        (root / "admin-token").write_text(f"  {token}\n", encoding="utf-8")
    return root


class TestDataDir:
    def test_flag_beats_env(self, tmp_path: Path) -> None:
        environ = {"DOME_HOME": str(tmp_path / "env")}
        assert resolve_data_dir(tmp_path / "flag", environ) == tmp_path / "flag"

    def test_env_beats_default(self, tmp_path: Path) -> None:
        assert resolve_data_dir(None, {"DOME_HOME": str(tmp_path)}) == tmp_path

    def test_default_is_dot_dome_in_home(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HOME", "/home/someone")
        assert resolve_data_dir(None, {}) == Path("/home/someone/.dome")

    def test_tilde_is_expanded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HOME", "/home/someone")
        assert resolve_data_dir(Path("~/d"), {}) == Path("/home/someone/d")


class TestUrl:
    def test_flag_beats_env_and_file(self, tmp_path: Path) -> None:
        data = make_data_dir(tmp_path / "d", url="http://file:1")
        assert resolve_url("http://flag:1", {"DOME_URL": "http://env:1"}, data) == "http://flag:1"

    def test_env_beats_file(self, tmp_path: Path) -> None:
        data = make_data_dir(tmp_path / "d", url="http://file:1")
        assert resolve_url(None, {"DOME_URL": "http://env:1"}, data) == "http://env:1"

    def test_file_beats_default(self, tmp_path: Path) -> None:
        data = make_data_dir(tmp_path / "d", url="http://file:1")
        assert resolve_url(None, {}, data) == "http://file:1"

    def test_default(self, tmp_path: Path) -> None:
        assert resolve_url(None, {}, tmp_path / "missing") == DEFAULT_URL == "http://127.0.0.1:8480"

    def test_blank_values_fall_through(self, tmp_path: Path) -> None:
        data = make_data_dir(tmp_path / "d", url="   ")
        assert resolve_url(" ", {"DOME_URL": ""}, data) == DEFAULT_URL


class TestToken:
    def test_env_beats_file(self, tmp_path: Path) -> None:
        data = make_data_dir(tmp_path / "d", token="from-file")
        assert resolve_token({"DOME_ADMIN_TOKEN": "from-env"}, data) == "from-env"

    def test_file_is_stripped(self, tmp_path: Path) -> None:
        assert resolve_token({}, make_data_dir(tmp_path / "d", token="tok")) == "tok"

    def test_missing_everywhere_says_how_to_get_one(self, tmp_path: Path) -> None:
        with pytest.raises(AdminTokenMissingError) as caught:
            resolve_token({"DOME_ADMIN_TOKEN": " "}, tmp_path)
        message = caught.value.message
        assert "DOME_ADMIN_TOKEN" in message
        assert str(tmp_path / "admin-token") in message
        assert "dome serve" in message

    def test_empty_file_counts_as_missing(self, tmp_path: Path) -> None:
        with pytest.raises(AdminTokenMissingError):
            resolve_token({}, make_data_dir(tmp_path / "d", token=""))

    def test_malformed_token_is_rejected_without_echoing_it(self, tmp_path: Path) -> None:
        with pytest.raises(ConnectionSettingsError) as caught:
            resolve_token({"DOME_ADMIN_TOKEN": "two words"}, tmp_path)
        assert "two words" not in caught.value.message

    def test_unreadable_file_is_a_clear_error(self, tmp_path: Path) -> None:
        (tmp_path / "admin-token").mkdir()
        with pytest.raises(ConnectionSettingsError, match="cannot read"):
            resolve_token({}, tmp_path)


def test_connection_repr_hides_the_token(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "d", token="tok-123")
    connection = resolve_connection(data_dir_flag=data, url_flag=None, environ={})
    assert "tok-123" not in repr(connection)
    assert connection.data_dir == data


# Through the command line: which URL and token the request actually used.


def last_request(api: FakeAdminApi) -> tuple[str, str]:
    request = api.requests[-1]
    base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
    return base, request.headers["authorization"]


def test_the_data_dir_supplies_url_and_token(dome: Dome, api: FakeAdminApi) -> None:
    (dome.data_dir / "broker.url").write_text("http://10.0.0.5:9999\n", encoding="utf-8")
    assert_exit(dome.run("tenant", "list"), 0)
    assert last_request(api) == ("http://10.0.0.5:9999", f"Bearer {ADMIN_TOKEN}")


def test_default_url_without_a_broker_url_file(dome: Dome, api: FakeAdminApi) -> None:
    assert_exit(dome.run("tenant", "list"), 0)
    assert last_request(api)[0] == "http://127.0.0.1:8480"


def test_env_url_beats_the_file_and_flag_beats_env(dome: Dome, api: FakeAdminApi) -> None:
    (dome.data_dir / "broker.url").write_text("http://file:1\n", encoding="utf-8")
    env = {"DOME_URL": "http://env:2"}
    dome.run("tenant", "list", env=env)
    assert last_request(api)[0] == "http://env:2"
    dome.run("--url", "http://flag:3", "tenant", "list", env=env)
    assert last_request(api)[0] == "http://flag:3"


def test_env_token_beats_the_file(dome: Dome, api: FakeAdminApi) -> None:
    api.token = "env-token"
    result = dome.run("tenant", "list", env={"DOME_ADMIN_TOKEN": "env-token"})
    assert_exit(result, 0)
    assert last_request(api)[1] == "Bearer env-token"


def test_data_dir_flag_beats_dome_home(dome: Dome, api: FakeAdminApi, tmp_path: Path) -> None:
    other = make_data_dir(tmp_path / "other", url="http://other:4", token="other-token")
    api.token = "other-token"
    assert_exit(dome.run("--data-dir", str(other), "tenant", "list"), 0)
    assert last_request(api) == ("http://other:4", "Bearer other-token")


def test_dome_home_beats_the_home_default(dome: Dome, api: FakeAdminApi) -> None:
    make_data_dir(dome.home / ".dome", url="http://home-default:5", token="home-token")
    assert_exit(dome.run("tenant", "list"), 0)
    assert last_request(api) == ("http://127.0.0.1:8480", f"Bearer {ADMIN_TOKEN}")


def test_home_default_is_used_last(dome: Dome, api: FakeAdminApi) -> None:
    make_data_dir(dome.home / ".dome", url="http://home-default:5", token="home-token")
    api.token = "home-token"
    assert_exit(dome.run("tenant", "list", env={"DOME_HOME": None}), 0)
    assert last_request(api) == ("http://home-default:5", "Bearer home-token")


def test_no_token_anywhere_is_an_error_before_any_request(dome: Dome, api: FakeAdminApi) -> None:
    (dome.data_dir / "admin-token").unlink()
    result = dome.run("tenant", "list")
    assert_exit(result, 1)
    assert result.stderr.startswith("error: no admin token: set DOME_ADMIN_TOKEN")
    assert api.requests == []


def test_help_needs_no_token(dome: Dome) -> None:
    (dome.data_dir / "admin-token").unlink()
    result = dome.run("--help")
    assert_exit(result, 0)
    for command in ("tenant", "workspace", "agent", "model", "audit", "admin"):
        assert command in result.stdout
