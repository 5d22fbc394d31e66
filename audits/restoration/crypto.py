"""Restoration-log primitives: the redacted key, HKDF sub-keys, seal and open (encrypt-then-MAC).

See :mod:`audits.restoration.log` for the scheme; this module holds the parts that touch key
material so that they are small enough to review in one sitting. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hmac as _std_hmac
from json.encoder import encode_basestring
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import ComplianceError

KEY_BYTES = 32
IV_BYTES = 16
MAC_BYTES = 32
BLOCK_BYTES = 16
FORMAT_VERSION = 1
_HKDF_SALT = b"compliance-jobs/restoration-log/v1"
NOT_UTF8 = "plaintext is not UTF-8 after a valid MAC (entry written with another scheme)"
MAC_MISMATCH = "MAC does not verify under key {key_id!r}: the entry was modified, moved or re-keyed"
BAD_PADDING = "bad PKCS7 padding after a valid MAC (entry written with another scheme)"
_PADS = [bytes([n]) * n for n in range(BLOCK_BYTES + 1)]

Reason = Literal["tampered", "truncated", "wrong_key", "expired"]


class RestorationLogError(ComplianceError):
    """An entry of the restoration log cannot be opened.

    Attributes:
        entry_id: the entry at fault.
        reason: ``tampered`` (MAC mismatch: modified, reordered or re-keyed), ``truncated`` (a
            field is shorter than the format requires), ``wrong_key`` (the key handed over is not
            the entry's key) or ``expired`` (the entry's key no longer exists).
        detail: a human-readable explanation; it never contains plaintext or key bytes.
    """

    def __init__(self, entry_id: str | None, reason: Reason, detail: str) -> None:
        self.entry_id = entry_id
        self.reason = reason
        self.detail = detail
        where = "restoration_log" if entry_id is None else f"restoration_log entry {entry_id!r}"
        super().__init__(f"{where}: {reason}: {detail}")


class InvalidKeyError(ComplianceError):
    """A key id or key material is malformed (the message never shows the material)."""


class RestorationKey:
    """A day's restoration-log key: its id and 32 secret bytes.

    ``repr``/``str``/``format`` are redacted; there is no ``__bytes__``; pickling is allowed
    only with binary protocols (>= 2, what Spark uses to ship a closure to the executors) and
    refused for the text protocols 0 and 1, so a key never ends up in a log line, an exception
    message or a text dump by accident. Equality compares the bytes in constant time.

    Example:
        >>> key = RestorationKey("k-20261122", bytes(32))
        >>> repr(key)
        "RestorationKey(key_id='k-20261122', material=<redacted>)"
    """

    __slots__ = ("_key_id", "_material")

    def __init__(self, key_id: str, material: bytes) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise InvalidKeyError("a restoration-log key id must be a non-empty string")
        if not isinstance(material, (bytes, bytearray)) or len(material) != KEY_BYTES:
            raise InvalidKeyError(
                f"restoration-log key {key_id!r} must be exactly {KEY_BYTES} bytes"
            )
        object.__setattr__(self, "_key_id", key_id)
        object.__setattr__(self, "_material", bytes(material))

    @property
    def key_id(self) -> str:
        """The key id (``k-YYYYMMDD`` for the file keyring)."""
        return self._key_id

    def reveal_bytes(self) -> bytes:
        """The secret bytes: only for key derivation and the keyring's own storage."""
        return self._material

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("RestorationKey is immutable")

    def __repr__(self) -> str:
        return f"RestorationKey(key_id={self._key_id!r}, material=<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RestorationKey):
            return NotImplemented
        return self._key_id == other._key_id and _std_hmac.compare_digest(
            self._material, other._material
        )

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        if not isinstance(protocol, int) or protocol < 2:
            raise TypeError("RestorationKey refuses text pickling (protocols 0 and 1)")
        return (RestorationKey, (self._key_id, self._material))

    def __getstate__(self) -> None:  # pragma: no cover - __reduce_ex__ takes precedence
        raise TypeError("RestorationKey has no public state")


class _SubKeys:
    """The derived AES and HMAC keys of one day's key (kept inside the process, never pickled)."""

    __slots__ = ("key_id", "aes", "mac_base", "mac_framed", "prefix")

    def __init__(self, key: RestorationKey) -> None:
        self.key_id = key.key_id
        info = key.key_id.encode("utf-8")
        material = key.reveal_bytes()
        enc = HKDF(hashes.SHA256(), KEY_BYTES, _HKDF_SALT, b"enc|" + info).derive(material)
        mac = HKDF(hashes.SHA256(), KEY_BYTES, _HKDF_SALT, b"mac|" + info).derive(material)
        self.aes = algorithms.AES(enc)
        self.mac_base = _hmac.HMAC(mac, hashes.SHA256())
        # version byte + length-prefixed key id + length prefix of the 16-byte IV
        self.prefix = bytes([FORMAT_VERSION]) + _lp(info) + IV_BYTES.to_bytes(4, "big")
        # the HMAC state after the prefix: batches copy it and feed only the per-entry rest
        self.mac_framed = self.mac_base.copy()
        self.mac_framed.update(self.prefix)

    def __repr__(self) -> str:
        return f"_SubKeys(key_id={self.key_id!r}, <redacted>)"

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        raise TypeError("derived keys never leave the process; ship the RestorationKey instead")


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _mac_input(sub: _SubKeys, iv: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """The MAC'd frame: version, key id, IV, ciphertext (each length-prefixed), then the AD.

    The associated data comes last, so it needs no length prefix to be unambiguous.
    """
    return b"".join((sub.prefix, iv, len(ciphertext).to_bytes(4, "big"), ciphertext, ad))


def _seal(sub: _SubKeys, ad: bytes, plaintext: bytes, iv: bytes) -> tuple[bytes, bytes]:
    """AES-256-CBC + PKCS7 then HMAC-SHA-256 over :func:`_mac_input`; returns (ciphertext, mac)."""
    enc = Cipher(sub.aes, modes.CBC(iv)).encryptor()
    ciphertext = enc.update(plaintext + _PADS[BLOCK_BYTES - len(plaintext) % BLOCK_BYTES])
    ciphertext += enc.finalize()
    h = sub.mac_base.copy()
    h.update(_mac_input(sub, iv, ciphertext, ad))
    return ciphertext, h.finalize()


def _shape_problem(iv: Any, ciphertext: Any, mac: Any) -> str | None:
    """Why the fields cannot be a sealed entry (missing or wrong length), or None."""
    if iv is None or ciphertext is None or mac is None:
        return "iv, ciphertext or mac is missing"
    if len(iv) != IV_BYTES:
        return f"iv is {len(iv)} bytes, expected {IV_BYTES}"
    if len(mac) != MAC_BYTES:
        return f"mac is {len(mac)} bytes, expected {MAC_BYTES}"
    if not ciphertext or len(ciphertext) % BLOCK_BYTES:
        return f"ciphertext is {len(ciphertext)} bytes, not a positive multiple of 16"
    return None


def _open(
    sub: _SubKeys, ad: bytes, iv: Any, ciphertext: Any, mac: Any
) -> tuple[Reason | None, Any]:
    """Verify then decrypt; never raises.

    Returns:
        ``(None, plaintext bytes)`` (UTF-8 not yet checked) or ``(reason, detail text)``.
    """
    problem = _shape_problem(iv, ciphertext, mac)
    if problem is not None:
        return "truncated", problem
    return _open_checked(sub, ad, iv, ciphertext, mac)


def _open_checked(
    sub: _SubKeys, ad: bytes, iv: bytes, ciphertext: bytes, mac: bytes
) -> tuple[Reason | None, Any]:
    """:func:`_open` for fields whose presence and lengths are already checked."""
    problem = _verify_checked(sub, ad, iv, ciphertext, mac)
    if problem is not None:
        return "tampered", problem
    dec = Cipher(sub.aes, modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    pad = padded[-1]
    if not 1 <= pad <= BLOCK_BYTES or padded[-pad:] != _PADS[pad]:
        return "tampered", BAD_PADDING
    return None, padded[:-pad]


def _verify_checked(
    sub: _SubKeys, ad: bytes, iv: bytes, ciphertext: bytes, mac: bytes
) -> str | None:
    """Check the MAC only (constant time); the reason it fails, or None. Never decrypts."""
    h = sub.mac_base.copy()
    h.update(_mac_input(sub, iv, ciphertext, ad))
    try:
        h.verify(mac)  # constant-time comparison
    except InvalidSignature:
        return MAC_MISMATCH.format(key_id=sub.key_id)
    return None


# --- many entries at once (the Spark batch path) ------------------------------------------------


_OFFSET_TYPES = (
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_string,
    pa.types.is_large_string,
)


def _binary_parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 offsets, uint8 data) of a binary/string Arrow array, without copying the data.

    Other byte types (``fixed_size_binary``, views) are cast to ``large_binary`` first.
    """
    if not any(check(arr.type) for check in _OFFSET_TYPES):
        arr = arr.cast(pa.large_binary())
    large = pa.types.is_large_binary(arr.type) or pa.types.is_large_string(arr.type)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = buffers[2]
    values = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, values


def _binary_array(offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    """A large_binary array from int64 offsets (starting at 0) and its data, without nulls."""
    n = len(offsets) - 1
    return pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _verify_many(
    sub: _SubKeys, ivs: pa.Array, ciphertexts: pa.Array, ads: pa.Array, macs: pa.Array
) -> list[int]:
    """Check the MACs of many well-formed entries of one key; the positions that fail.

    The per-entry frame after the key's prefix (IV, ciphertext length, ciphertext, associated
    data) is assembled by Arrow in one pass; each MAC is then one keyed-state copy, one update and
    a constant-time verify.
    """
    n = len(ciphertexts)
    if n == 0:
        return []
    offsets, _ = _binary_parts(ciphertexts)
    lengths = np.diff(offsets).astype(">u4").view(np.uint8)
    length_col = _binary_array(np.arange(0, 4 * n + 1, 4, dtype=np.int64), lengths)
    parts = [a.cast(pa.large_binary()) for a in (ivs, ciphertexts, ads)]
    frames = pc.binary_join_element_wise(
        parts[0], length_col, parts[1], parts[2], pa.scalar(b"", pa.large_binary())
    )
    base = sub.mac_framed
    failed: list[int] = []
    for j, (frame, tag) in enumerate(zip(frames.to_pylist(), macs.to_pylist(), strict=False)):
        h = base.copy()
        h.update(frame)
        try:
            h.verify(tag)  # constant-time comparison
        except InvalidSignature:
            failed.append(j)
    return failed


def _open_many(sub: _SubKeys, ivs: pa.Array, ciphertexts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Decrypt many MAC-verified, well-formed entries of one key with a single AES-CBC call.

    CBC decryption gives block ``j`` as ``D(C[j]) xor C[j-1]`` (``C[-1]`` being the IV). Decrypting
    the entries' ciphertexts laid end to end, under the first entry's IV, therefore yields every
    block exactly except the first block of each later entry, which was xored with the previous
    entry's last ciphertext block instead of its own IV: xoring that block with (previous last
    block xor own IV) puts it right. Padding is then checked and stripped for all entries at once.

    Args:
        sub: the entries' derived keys.
        ivs: the 16-byte IVs (no nulls).
        ciphertexts: the ciphertexts, each a positive multiple of 16 bytes (no nulls).

    Returns:
        (``large_binary`` plaintexts, null where the padding is bad; the bad-padding mask).
    """
    n = len(ciphertexts)
    if n == 0:
        return pa.array([], pa.large_binary()), np.zeros(0, dtype=bool)
    c_off, c_data = _binary_parts(ciphertexts)
    i_off, i_data = _binary_parts(ivs)
    cipher = c_data[c_off[0] : c_off[-1]]
    iv = i_data[i_off[0] : i_off[-1]].reshape(n, IV_BYTES)
    starts = c_off[:-1] - c_off[0]
    lengths = np.diff(c_off)
    out = bytearray(cipher.size + BLOCK_BYTES - 1)
    dec = Cipher(sub.aes, modes.CBC(iv[0].tobytes())).decryptor()
    written = dec.update_into(cipher, out)
    dec.finalize()
    if written != cipher.size:  # pragma: no cover - CBC without padding returns every block
        raise RestorationLogError(None, "truncated", "AES-CBC returned a partial batch")
    plain = np.frombuffer(out, dtype=np.uint8)[: cipher.size]
    blocks = plain.reshape(-1, BLOCK_BYTES)
    first = starts[1:] // BLOCK_BYTES
    blocks[first] ^= cipher.reshape(-1, BLOCK_BYTES)[first - 1] ^ iv[1:]
    last = blocks[(starts + lengths) // BLOCK_BYTES - 1]
    pad = last[:, -1].astype(np.int64)
    in_pad = np.arange(BLOCK_BYTES) >= BLOCK_BYTES - pad[:, None]
    good = (pad >= 1) & (pad <= BLOCK_BYTES) & np.all((last == pad[:, None]) | ~in_pad, axis=1)
    keep = np.where(good, lengths - pad, 0)
    # Keep bytes [start, start + keep) of every entry: +1/-1 marks, then a running sum.
    marks = np.zeros(cipher.size + 1, dtype=np.int8)
    marks[starts] += 1
    marks[starts + keep] -= 1
    data = plain[np.cumsum(marks[:-1], dtype=np.int8).astype(bool)]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep, out=offsets[1:])
    opened = _binary_array(offsets, data)
    if not good.all():
        opened = pc.if_else(pa.array(good), opened, pa.scalar(None, pa.large_binary()))
    return opened, ~good


def _json_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def associated_data(
    entry_id: str, deletion_id: str | None, table: str, created_at_us: int
) -> bytes:
    """The associated data authenticated with an entry: sorted-key compact JSON, UTF-8.

    Identical to ``json.dumps({"created_at": created_at_us, "deletion_id": deletion_id,
    "entry_id": entry_id, "table": table}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, built without the generic encoder because it runs once per entry.

    Example:
        >>> associated_data("e1", "d1", "crm.customers", 0)
        b'{"created_at":0,"deletion_id":"d1","entry_id":"e1","table":"crm.customers"}'
    """
    return (
        f'{{"created_at":{int(created_at_us)},"deletion_id":{_json_or_null(deletion_id)},'
        f'"entry_id":{_json_or_null(entry_id)},"table":{_json_or_null(table)}}}'
    ).encode()
