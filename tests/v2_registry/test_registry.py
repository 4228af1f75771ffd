"""The registry's pure bookkeeping, with time moved by hand."""

import pytest

from stages.v2_registry.registry import NameTaken, Registry, RegistryFull


def test_an_entry_expires_exactly_one_ttl_after_its_last_heartbeat() -> None:
    registry = Registry(ttl=5.0)
    registry.register("n1", "127.0.0.1", 8050, now=100.0)
    assert registry.expire(now=104.999) == []
    assert [e.name for e in registry.entries(now=104.999)] == ["n1"]
    expired = registry.expire(now=105.0)
    assert [(e.name, e.age(105.0)) for e in expired] == [("n1", 5.0)]
    assert registry.entries(now=105.0) == []


def test_renewal_extends_the_entry() -> None:
    registry = Registry(ttl=5.0)
    first, created = registry.register("n1", "127.0.0.1", 8050, now=0.0)
    renewed, created_again = registry.register("n1", "127.0.0.1", 8050, now=4.0)
    assert (created, created_again) == (True, False)
    assert renewed.first_seen == first.first_seen == 0.0
    assert renewed.last_seen == 4.0
    assert registry.expire(now=8.9) == []
    assert [e.name for e in registry.expire(now=9.0)] == ["n1"]


def test_a_live_name_at_another_address_is_refused() -> None:
    registry = Registry(ttl=5.0)
    registry.register("n1", "127.0.0.1", 8050, now=0.0)
    with pytest.raises(NameTaken, match=r"127\.0\.0\.1:8050"):
        registry.register("n1", "127.0.0.1", 9999, now=1.0)
    with pytest.raises(NameTaken):
        registry.register("n1", "10.0.0.2", 8050, now=1.0)
    assert registry.get("n1", now=1.0).port == 8050  # the original entry is untouched


def test_a_name_is_free_again_once_its_entry_expired() -> None:
    registry = Registry(ttl=5.0)
    registry.register("n1", "127.0.0.1", 8050, now=0.0)
    entry, created = registry.register("n1", "127.0.0.1", 9999, now=5.0)
    assert created and entry.port == 9999 and entry.first_seen == 5.0


def test_reregistration_after_expiry_is_a_new_entry() -> None:
    registry = Registry(ttl=5.0)
    registry.register("n1", "127.0.0.1", 8050, now=0.0)
    registry.expire(now=6.0)
    entry, created = registry.register("n1", "127.0.0.1", 8050, now=7.0)
    assert created and entry.first_seen == 7.0


def test_deregister_frees_the_name_at_once() -> None:
    registry = Registry(ttl=5.0)
    registry.register("n1", "127.0.0.1", 8050, now=0.0)
    assert registry.deregister("n1") is not None
    assert registry.deregister("n1") is None
    assert registry.register("n1", "127.0.0.1", 9999, now=0.1)[1] is True


def test_entries_are_sorted_by_name_and_only_live_ones_are_listed() -> None:
    registry = Registry(ttl=5.0)
    registry.register("b", "h", 2, now=0.0)
    registry.register("a", "h", 1, now=3.0)
    registry.register("c", "h", 3, now=1.0)
    assert [e.name for e in registry.entries(now=4.0)] == ["a", "b", "c"]
    assert [e.name for e in registry.entries(now=5.5)] == ["a", "c"]  # b is silent for 5.5 s
    assert registry.get("b", now=5.5) is None


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        Registry(ttl=0)


def test_a_full_registry_refuses_new_names_but_renews_the_ones_it_has() -> None:
    registry = Registry(ttl=5.0, max_nodes=2)
    registry.register("n1", "127.0.0.1", 8051, now=0.0)
    registry.register("n2", "127.0.0.1", 8052, now=0.0)
    with pytest.raises(RegistryFull, match="limit of 2 nodes"):
        registry.register("n3", "127.0.0.1", 8053, now=1.0)
    assert registry.register("n1", "127.0.0.1", 8051, now=1.0)[1] is False  # renewal: fine
    registry.deregister("n2")
    assert registry.register("n3", "127.0.0.1", 8053, now=2.0)[1] is True  # room again
