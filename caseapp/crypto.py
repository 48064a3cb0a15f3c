"""All cryptography of Ruta, in one module (DESIGN.md section 6).

- keyring: key-encryption keys (KEKs) with ids, one active; an index root key; an audit key; a token key.
- envelope encryption: a random 256-bit data key (DEK) per victim, wrapped by the active KEK; fields are
  AES-256-GCM under the DEK with associated data "table/column/row", stored as version | nonce | ct+tag.
- blind indexes: truncated HMAC-SHA256 under a key derived (HKDF) per table/field/index from the index root.
- password hashing (Argon2id), token and recovery-code hashing (HMAC-SHA256 under the token key),
  and the access log's keyed chain MAC.

No other module imports `cryptography` or `argon2`.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from caseapp.text import fold

FORMAT_VERSION = b"\x01"
NULL_FORMAT = b"\x00"  # benchmark-only null cipher: plaintext behind a marker byte
NONCE_BYTES = 12
KEYRING_FILE = "keyring.json"


class CryptoError(Exception):
    """A value failed to decrypt or authenticate: tampered, moved, or under an unknown key."""


class KeyDestroyed(CryptoError):
    """The data key was destroyed (crypto-shredding): the value is erased for good."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


@dataclass
class Keyring:
    # No key in its repr: a traceback that shows local variables (a debugger, an error reporter) would print them.
    keks: dict[str, bytes] = field(repr=False)
    active: str
    index_root: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)
    token_key: bytes = field(repr=False)
    source: Path | None = None
    _derived: dict = field(default_factory=dict, repr=False, compare=False)
    _kek_ciphers: dict = field(default_factory=dict, repr=False, compare=False)  # by the KEK itself, not its id

    @classmethod
    def generate(cls) -> Keyring:
        kek_id = new_kek_id()
        return cls(
            keks={kek_id: AESGCM.generate_key(bit_length=256)},
            active=kek_id,
            index_root=os.urandom(32),
            audit_key=os.urandom(32),
            token_key=os.urandom(32),
        )

    @classmethod
    def from_json(cls, text: str, source: Path | None = None) -> Keyring:
        data = json.loads(text)
        ring = cls(
            keks={k: _unb64(v) for k, v in data["keks"].items()},
            active=data["active"],
            index_root=_unb64(data["index_root"]),
            audit_key=_unb64(data["audit_key"]),
            token_key=_unb64(data["token_key"]),
            source=source,
        )
        if ring.active not in ring.keks or any(len(k) != 32 for k in ring.keks.values()):
            raise CryptoError("keyring is malformed: the active KEK is missing or a key is not 256 bits")
        return ring

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keks": {k: _b64(v) for k, v in self.keks.items()},
                "index_root": _b64(self.index_root),
                "audit_key": _b64(self.audit_key),
                "token_key": _b64(self.token_key),
            },
            indent=2,
            sort_keys=True,
        )

    def save(self, path: Path) -> None:
        """Write atomically with owner-only permissions."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.to_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def derived(self, purpose: str) -> bytes:
        """A 256-bit key derived from the index root for one blind index (HKDF-SHA256)."""
        key = self._derived.get(purpose)
        if key is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
                self.index_root
            )
            self._derived[purpose] = key
        return key

    def kek_cipher(self, kek_id: str) -> AESGCM:
        """The AES-GCM cipher of a KEK, made once per keyring: a case list unwraps fifty data keys, and making the
        cipher cost more than the unwrap itself. KeyError for an unknown KEK."""
        kek = self.keks[kek_id]
        cipher = self._kek_ciphers.get(kek)
        if cipher is None:
            cipher = self._kek_ciphers[kek] = AESGCM(kek)
        return cipher


def new_kek_id() -> str:
    return "kek-" + secrets.token_hex(4)


_lock = threading.Lock()


def keyring_path(app=None) -> Path:
    app = app or current_app
    return Path(app.config["INSTANCE_PATH"]) / KEYRING_FILE


@contextmanager
def keyring_file_lock(path: Path):
    """An exclusive lock beside the keyring file, held while it is read, changed and written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def init_keyring(app=None) -> tuple[Path, bool]:
    """Create the instance keyring when there is none; never touch an existing one. Returns (path, created)."""
    path = keyring_path(app)
    with keyring_file_lock(path):
        if path.exists():
            return path, False
        Keyring.generate().save(path)
        return path, True


def load_keyring(app=None) -> Keyring:
    app = app or current_app
    if app.config.get("KEYRING_JSON"):
        return Keyring.from_json(app.config["KEYRING_JSON"])
    path = keyring_path(app)
    if not path.exists():
        if not app.config.get("KEYRING_AUTOCREATE"):
            raise CryptoError(f"no keyring at {path}: run `flask keys init` or set CASEAPP_KEYRING")
        init_keyring(app)
    return Keyring.from_json(path.read_text(), source=path)


def keyring(reload: bool = False) -> Keyring:
    """The app's keyring, loaded on first use (not at start-up: create_app does no I/O)."""
    ext = current_app.extensions
    if not reload and (ring := ext.get("ruta_keyring")) is not None:  # every read but the first: no lock
        return ring
    with _lock:
        if reload or "ruta_keyring" not in ext:
            ext["ruta_keyring"] = load_keyring()
        return ext["ruta_keyring"]


def _kek_cipher(kek_id: str) -> AESGCM:
    ring = keyring()
    if kek_id not in ring.keks:
        # Another process may have rotated: re-read the keyring once before failing.
        ring = keyring(reload=True)
    try:
        return ring.kek_cipher(kek_id)
    except KeyError:
        raise CryptoError(f"unknown key-encryption key {kek_id!r}") from None


# --- envelope encryption ---------------------------------------------------------------------------


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(dek: bytes, kek_id: str | None = None) -> tuple[str, bytes]:
    """Wrap a DEK under the active KEK (or the named one). Returns (kek_id, wrapped)."""
    kek_id = kek_id or keyring().active
    nonce = os.urandom(NONCE_BYTES)
    wrapped = nonce + _kek_cipher(kek_id).encrypt(nonce, dek, b"ruta/dek/" + kek_id.encode())
    return kek_id, wrapped


def unwrap_data_key(kek_id: str, wrapped: bytes | None) -> bytes:
    if wrapped is None:
        raise KeyDestroyed("data key destroyed")
    try:
        return _kek_cipher(kek_id).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"ruta/dek/" + kek_id.encode()
        )
    except InvalidTag:
        raise CryptoError("data key failed to unwrap") from None


def field_aad(table: str, column: str, row: str) -> bytes:
    return f"{table}/{column}/{row}".encode()


def encrypt_value(dek: bytes, plaintext: str, aad: bytes) -> bytes:
    if current_app.config.get("CIPHER") == "null":
        return NULL_FORMAT + plaintext.encode()
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + nonce + AESGCM(dek).encrypt(nonce, plaintext.encode(), aad)


def decrypt_value(dek: bytes, blob: bytes, aad: bytes) -> str:
    if not blob:
        raise CryptoError("empty ciphertext")
    if blob[:1] == NULL_FORMAT and current_app.config.get("CIPHER") == "null":
        return blob[1:].decode()
    if blob[:1] != FORMAT_VERSION:
        raise CryptoError("unknown ciphertext format")
    try:
        return AESGCM(dek).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad).decode()
    except InvalidTag:
        raise CryptoError("ciphertext failed to authenticate (tampered, moved or wrong key)") from None


def encrypt_bytes(dek: bytes, data: bytes, aad: bytes) -> bytes:
    """A file (an attachment) under a victim's DEK, in the format of a field: version | nonce | ct+tag. Always
    AES-256-GCM, even under the benchmark's null cipher: files are never written in clear."""
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + nonce + AESGCM(dek).encrypt(nonce, bytes(data), aad)


def decrypt_bytes(dek: bytes, blob: bytes, aad: bytes) -> bytes:
    if not blob or blob[:1] != FORMAT_VERSION:
        raise CryptoError("unknown ciphertext format")
    try:
        return AESGCM(dek).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise CryptoError("ciphertext failed to authenticate (tampered, moved or wrong key)") from None


class Encrypted:
    """A model attribute stored encrypted in the column `<name>_enc`, read and written as plain text.

    The owning model provides `_encryption_key()` (the victim's unwrapped DEK) and a `uid` string that
    identifies the row; associated data binds each value to table, column and row.
    Reading a value whose data key was destroyed returns ERASED.
    """

    def __init__(self, name: str):
        self.name = name
        self.column = f"{name}_enc"

    def __set_name__(self, owner, name):
        self.name = name
        self.column = f"{name}_enc"

    def _aad(self, obj) -> bytes:
        if not getattr(obj, "uid", None):
            obj.uid = new_uid()
        return field_aad(obj.__tablename__, self.name, obj.uid)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        try:
            key = obj._encryption_key()
        except KeyDestroyed:
            return ERASED
        return decrypt_value(key, blob, self._aad(obj))

    def __set__(self, obj, value):
        if value is None or value == "":
            setattr(obj, self.column, None)
            return
        if not isinstance(value, str):
            value = str(value)
        setattr(obj, self.column, encrypt_value(obj._encryption_key(), value, self._aad(obj)))


class _Erased(str):
    """The value of an identity field whose data key was destroyed."""

    def __repr__(self) -> str:
        return "ERASED"


ERASED = _Erased("")


def new_uid() -> str:
    return secrets.token_hex(16)


# --- blind indexes -----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z ]")


def normalise_text(value: str) -> str:
    """Accents stripped, case folded, punctuation dropped, spaces collapsed."""
    return _SPACES.sub(" ", _NOT_ALNUM.sub(" ", fold(value))).strip()


def normalise_document(doc_type: str, number: str) -> str:
    return f"{doc_type.upper()}:{re.sub(r'[^0-9A-Za-z]', '', number).upper()}"


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    # Colombian numbers with or without the +57 country code index alike.
    if len(digits) == 12 and digits.startswith("57"):
        digits = digits[2:]
    return digits


MIN_PLANNED_ROWS = 100  # below this no width gives 2 <= C < sqrt(rows)


def blind_index_bits(planned_rows: int) -> int:
    """The width of a blind index for a table planned to hold `planned_rows` values.

    With C = rows / 2**bits values sharing each index value, 2 <= C < sqrt(rows): at least two people answer any
    index value, so a copy of the database cannot link one person across entities by it; and fewer than sqrt(rows)
    candidates are decrypted per search. Of the widths that satisfy both, the widest (fewest candidates).
    1,000 victims: 8 bits (C ~ 3.9); 100,000: 15 bits (C ~ 3.1)."""
    rows = max(int(planned_rows), MIN_PLANNED_ROWS)
    fitting = [b for b in range(1, 33) if 2 <= rows / 2**b < rows**0.5]
    return max(fitting)


def blind_index(purpose: str, normalised: str, bits: int | None = None) -> int:
    """Truncated HMAC-SHA256 of a normalised value, as a non-negative integer of `bits` bits.

    Callers pass the width the deployment recorded (services.registry.identity.index_bits); the default, from the
    planned number of victims, is for tools that build rows outside the registry (benchmarks, fixtures)."""
    bits = bits or blind_index_bits(current_app.config["PLANNED_VICTIMS"])
    mac = hmac.new(keyring().derived("blind-index/" + purpose), normalised.encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") >> (64 - bits)


# --- passwords, tokens, recovery codes ---------------------------------------------------------------


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_KIB"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so that unknown users are not told apart by timing.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Keyed hash of a high-entropy secret (API token, session id, recovery code) for lookup."""
    return hmac.new(keyring().token_key, token.encode(), hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_recovery_code() -> str:
    """A one-time recovery code: 12 characters of base32 (60 bits), shown as XXXX-XXXX-XXXX."""
    raw = base64.b32encode(os.urandom(8)).decode()[:12]
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_recovery_code(code: str) -> str:
    return re.sub(r"[^A-Z2-7]", "", code.upper())


# --- access log chain --------------------------------------------------------------------------------


def audit_mac(prev_mac: str, canonical: bytes) -> str:
    return hmac.new(keyring().audit_key, prev_mac.encode() + b"|" + canonical, hashlib.sha256).hexdigest()
