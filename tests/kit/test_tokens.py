import math

from keyhouse.kit import tokens
from keyhouse.kit.tokens import TokenKind


def test_a_new_key_has_prefix_256_random_bits_and_a_valid_checksum() -> None:
    key = tokens.generate(TokenKind.API_KEY)
    prefix, kind, random_part, checksum = key.split("_")
    assert (prefix, kind) == ("kh", "key")
    assert len(random_part) * math.log2(62) >= 256
    assert len(checksum) == 6
    assert tokens.parse_kind(key) is TokenKind.API_KEY


def test_keys_are_unique() -> None:
    assert len({tokens.generate(TokenKind.API_KEY) for _ in range(1000)}) == 1000


def test_the_checksum_catches_every_single_character_change() -> None:
    key = tokens.generate(TokenKind.API_KEY)
    for position in range(len(key)):
        for replacement in "0aZ_":
            if key[position] == replacement:
                continue
            mistyped = key[:position] + replacement + key[position + 1 :]
            assert tokens.parse_kind(mistyped) is None, mistyped


def test_the_stored_hash_is_keyed_by_the_server_secret() -> None:
    key = tokens.generate(TokenKind.API_KEY)
    first = tokens.keyed_hash(b"a" * 32, key)
    assert first == tokens.keyed_hash(b"a" * 32, key)
    assert first != tokens.keyed_hash(b"b" * 32, key)
    assert key not in first


def test_the_hint_is_the_first_twelve_characters() -> None:
    key = tokens.generate(TokenKind.API_KEY)
    assert tokens.hint(key) == key[:12]
    assert key.startswith("kh_key_")


def test_keys_issued_earlier_still_verify_to_the_same_stored_hash() -> None:
    # Issued and hashed by an earlier release: the fast path must keep accepting them.
    issued = {
        "kh_key_AgpBnuzF30h71uYRrInn5Qq0XuhdhW67WKbAl12sAtu_07rchC": TokenKind.API_KEY,
        "kh_at_8n6KUnEoKoBWyfTJWT6v7edwlCY7FEjTrhEvdaDcjv7_3lLVKq": TokenKind.ACCESS_TOKEN,
    }
    for token, kind in issued.items():
        assert tokens.parse_kind(token) is kind
    assert tokens.keyed_hash(b"a" * 32, next(iter(issued))) == (
        "bb410fb6e9c8513973284aeb91e559e3aad55fa247adfca02928a47bc276e6f5"
    )
