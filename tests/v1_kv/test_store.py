"""The pure store: no event loop, no HTTP."""

import pytest

from stages.v1_kv.store import MAX_KEY_BYTES, InvalidKey, KVStore, validate_key


def test_put_reports_whether_the_key_is_new() -> None:
    store = KVStore()
    assert store.put("greeting", b"hello") is True
    assert store.put("greeting", b"hi") is False
    assert store.get("greeting") == b"hi"


def test_get_of_a_missing_key_is_none() -> None:
    assert KVStore().get("nope") is None


def test_delete_reports_whether_the_key_was_there() -> None:
    store = KVStore()
    store.put("k", b"v")
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert store.get("k") is None


def test_values_are_stored_as_exact_bytes() -> None:
    store = KVStore()
    value = bytes(range(256))
    store.put("binary", bytearray(value))
    assert store.get("binary") == value


def test_keys_are_sorted_and_filtered_by_prefix() -> None:
    store = KVStore()
    for key in ["users/2", "users/10", "orders/1", "users/1"]:
        store.put(key, b"")
    assert store.keys() == ["orders/1", "users/1", "users/10", "users/2"]
    assert store.keys("users/") == ["users/1", "users/10", "users/2"]
    assert store.keys("nothing") == []


def test_unicode_and_slashed_keys_are_allowed() -> None:
    store = KVStore()
    store.put("ключ/✓ 1", b"x")
    assert store.get("ключ/✓ 1") == b"x"


def test_key_length_is_counted_in_utf8_bytes() -> None:
    validate_key("a" * MAX_KEY_BYTES)
    validate_key("é" * (MAX_KEY_BYTES // 2))  # 2 bytes each: exactly the limit
    with pytest.raises(InvalidKey, match="1025 bytes"):
        validate_key("a" * (MAX_KEY_BYTES + 1))
    with pytest.raises(InvalidKey, match="1026 bytes"):
        validate_key("é" * (MAX_KEY_BYTES // 2 + 1))


@pytest.mark.parametrize("key", ["", "\ud800"])
def test_empty_or_unencodable_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidKey):
        KVStore().put(key, b"v")
