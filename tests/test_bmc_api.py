"""Buy Me a Coffee's API read through adminui's client, against the loopback stand-in: one
request per payment looked up, pages a few at a time, the documented shapes (string prices,
is_refunded as null/1/"1", the empty list's error body, absolute next_page_url), and every way a
read fails said in one sentence."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import keyring
import pytest

from adminui.bmc import BmcClient, BmcError, api_base
from adminui.config import Profile, normalize_url
from adminui.errors import SetupError
from adminui.passwords import find_bmc_token, store_bmc_token
from tests.bmc_standin import TOKEN, Standin, serving, supporter

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def standin() -> Iterator[Standin]:
    people = [
        supporter(1000 + n, f"fan{n}@example.com", NOW - timedelta(days=n), coffees=1 + n % 3)
        for n in range(23)
    ]
    with serving(Standin(supporters=people)) as running:
        yield running


def client(standin: Standin, **options) -> BmcClient:
    return BmcClient(TOKEN, standin.url, **options)


def test_one_payment_is_one_request_and_reads_as_documented(standin: Standin) -> None:
    standin.supporters.append(
        supporter(77, "ada@example.com", NOW, coffees=3, price="5.0000", refunded="1", note="hi")
    )
    with client(standin) as bmc:
        payment = bmc.payment("support", 77)
        assert bmc.requests == 1
    assert payment is not None
    assert (payment.amount, payment.price, payment.coffees) == (Decimal("15.00"), Decimal("5"), 3)
    assert payment.created == NOW and payment.created.tzinfo is UTC
    assert payment.refunded and payment.reference == "BMC-77" and payment.note == "hi"
    assert standin.paths == ["/api/v1/supporters/77"]


@pytest.mark.parametrize(("flag", "refunded"), [(None, False), (1, True), ("1", True), (0, False)])
def test_is_refunded_in_each_of_its_forms(standin: Standin, flag, refunded: bool) -> None:
    standin.supporters.append(supporter(5, "a@example.com", NOW, refunded=flag))
    with client(standin) as bmc:
        assert bmc.payment("support", 5).refunded is refunded


def test_a_payment_bmc_does_not_have_is_none(standin: Standin) -> None:
    with client(standin) as bmc:
        assert bmc.payment("support", 999_999) is None


def test_every_page_newest_first_and_only_as_far_back_as_asked(standin: Standin) -> None:
    with client(standin, concurrency=2) as bmc:
        everything = bmc.payments("support")
        assert [p.id for p in everything] == [1000 + n for n in range(23)]
        assert bmc.requests == 5  # 23 at 5 a page
    with client(standin, concurrency=2) as bmc:
        recent = bmc.payments("support", since=NOW - timedelta(days=6, hours=1))
        assert [p.id for p in recent] == [1000 + n for n in range(7)]
        assert bmc.requests == 3  # page 1, then pages 2 and 3 reach back past the week


def test_a_reply_s_own_urls_are_never_followed(standin: Standin) -> None:
    """next_page_url is absolute: following it could send the token to another host. The
    client asks the configured base for each page instead."""
    standin.url = "http://127.0.0.2:9/api/v1"  # what the envelopes name: nothing listens there
    with BmcClient(TOKEN, f"http://127.0.0.1:{standin.port}/api/v1") as bmc:
        assert len(bmc.payments("support")) == 23


def test_the_empty_list_is_an_error_body_and_means_none(standin: Standin) -> None:
    standin.supporters.clear()
    with client(standin) as bmc:
        assert bmc.payments("support") == [] and bmc.payments("membership") == []
    assert standin.paths[-1] == "/api/v1/subscriptions?status=all&page=1"


def test_a_refused_token_is_one_sentence(standin: Standin) -> None:
    with BmcClient("wrong", standin.url) as bmc, pytest.raises(BmcError, match="HTTP 401") as told:
        bmc.payment("support", 1000)
    assert "wrong" not in str(told.value) and told.value.exit_code == 2


def test_429_is_waited_out_as_retry_after_asks(standin: Standin) -> None:
    standin.limit, standin.retry_after = (2, 1.0), "1"
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with client(standin, concurrency=4, sleep=sleep) as bmc:
        assert len(bmc.payments("support")) == 23
    assert waits and 0.5 < sum(waits) < 10


def test_429_past_its_retries_is_one_sentence(standin: Standin) -> None:
    standin.limit, standin.retry_after = (0, 60.0), "120"  # asks for longer than is waited
    with client(standin) as bmc, pytest.raises(BmcError, match=r"HTTP 429.*try again in 120 s"):
        bmc.payment("support", 1000)


def test_a_slow_reply_past_the_timeout_is_one_sentence(standin: Standin) -> None:
    standin.slow = 2.0
    started = time.monotonic()
    with client(standin, timeout=0.3) as bmc, pytest.raises(BmcError, match=r"within 0\.3 s"):
        bmc.payment("support", 1000)
    assert time.monotonic() - started < 1.9


def test_nothing_listening_is_one_sentence() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with (
        BmcClient(TOKEN, f"http://127.0.0.1:{port}/api/v1") as bmc,
        pytest.raises(BmcError, match=r"Can't reach Buy Me a Coffee at 127\.0\.0\.1"),
    ):
        bmc.payment("support", 1)


@pytest.mark.parametrize(
    ("malformed", "says"), [("json", "not JSON"), ("data", "no data list"), ("price", "five")]
)
def test_a_malformed_reply_is_one_sentence(standin: Standin, malformed: str, says: str) -> None:
    standin.malformed = malformed
    with client(standin) as bmc, pytest.raises(BmcError, match=says):
        bmc.payments("support")


def test_the_token_goes_only_to_https_or_this_machine(monkeypatch) -> None:
    monkeypatch.delenv("ADMINUI_BMC_API", raising=False)
    assert api_base(None) == "https://developers.buymeacoffee.com/api/v1"
    assert api_base("http://localhost:8080/api/v1/") == "http://localhost:8080/api/v1"
    with pytest.raises(SetupError, match="must be https://"):
        api_base("http://bmc.example.com/api/v1")
    monkeypatch.setenv("ADMINUI_BMC_API", "http://[::1]:9/api/v1")
    assert api_base("https://ignored.example.com") == "http://[::1]:9/api/v1"


def test_the_token_comes_from_the_environment_then_the_keyring(monkeypatch) -> None:
    profile = Profile(name="prod", url=normalize_url("sqlite:///x.sqlite", "test"))
    monkeypatch.delenv("ADMINUI_BMC_TOKEN", raising=False)
    with pytest.raises(BmcError, match="No Buy Me a Coffee token"):
        find_bmc_token(profile, interactive=False)
    store_bmc_token("prod", "from-keyring")
    assert keyring.get_password("adminui", "bmc:prod") == "from-keyring"
    assert find_bmc_token(profile, interactive=False) == "from-keyring"
    monkeypatch.setenv("ADMINUI_BMC_TOKEN", "from-env")
    assert find_bmc_token(profile, interactive=False) == "from-env"
