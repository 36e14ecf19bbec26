//! Encryption at rest: the keyring that seals secrets before they reach a column, and opens them
//! again for the code that must use them (never for the API, which only says whether one is set).
//!
//! What is sealed: integration access and refresh tokens, the assistants' server URL secret and
//! the NextAuth OAuth tokens — every column listed in [`sealed`]. The key lives outside the
//! database (`FRONTDESK_ENCRYPTION_KEY`), so a dump, a replica or a backup holds ciphertext only.
//!
//! # Format
//!
//! AES-256-GCM (the `aes-gcm` crate, RustCrypto) with a random 96-bit nonce per value. Each
//! stored value describes itself, so a key rotation can tell old values from new ones and a
//! reader knows which key to use:
//!
//! ```text
//! byte 0       version (1)
//! bytes 1..9   key id: the first 8 bytes of SHA-256("frontdesk key id" ‖ key)
//! bytes 9..21  nonce
//! bytes 21..   ciphertext ‖ 16-byte tag
//! ```
//!
//! # Binding to the row
//!
//! The associated data ([`Aad`]) is the header above plus the table, the column, the row's
//! scope (its tenant, or its user for NextAuth rows) and the row id. A ciphertext copied into
//! another column, another row or another tenant's row therefore fails to open, exactly like a
//! tampered one: the database cannot be used to move a secret to where it would be misused.
//!
//! # Keys
//!
//! A [`Keyring`] seals with its current key and opens with the current or any previous key (the
//! key id in the header picks it), so during a rotation the servers read both generations while
//! `frontdesk rotate-encryption-key` ([`rotate`]) re-seals every value under the current key.
//!
//! Nothing here logs, formats or returns key material or plaintext: `Debug` of a key or keyring
//! shows key ids only, errors name the key id and nothing else, and opened values come back in
//! a buffer that is wiped when dropped.

pub mod rotate;
pub mod sealed;

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::Engine;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use sealed::{Scope, SealedColumn};

/// The format version written in byte 0.
const VERSION: u8 = 1;
/// Bytes of the key id.
const KEY_ID_LEN: usize = 8;
/// Bytes of an AES-GCM nonce.
const NONCE_LEN: usize = 12;
/// Bytes of the authentication tag.
const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: version, key id, nonce.
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
/// The shortest sealed value (an empty plaintext).
pub const MIN_SEALED_LEN: usize = HEADER_LEN + TAG_LEN;

/// Why a value could not be sealed or opened. No variant carries plaintext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// No encryption key is configured for this process.
    #[error("no encryption key is configured (FRONTDESK_ENCRYPTION_KEY)")]
    NoKey,
    /// The stored bytes are not a sealed value of a known format version.
    #[error("the stored value is not a sealed value this version can read")]
    Malformed,
    /// Sealed under a key this process does not hold.
    #[error(
        "the stored value is sealed under key {0}, which is neither FRONTDESK_ENCRYPTION_KEY \
         nor one of FRONTDESK_PREVIOUS_ENCRYPTION_KEYS"
    )]
    UnknownKey(KeyId),
    /// The key is known but authentication failed: the value was altered, or it belongs to
    /// another row, column or tenant.
    #[error("the stored value failed authentication (altered, or sealed for another row)")]
    Forged,
}

/// Why a configured key was refused. The message never repeats the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an encryption key must be 32 random bytes written as 64 hex digits or as base64 \
     (e.g. `openssl rand -base64 32`)"
)]
pub struct KeyFormatError;

/// The short, public fingerprint of a key, stored with every value sealed under it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A 256-bit key and its id. The bytes are wiped when it is dropped.
#[derive(Clone)]
pub struct Key {
    bytes: Zeroizing<[u8; 32]>,
    id: KeyId,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        let digest = Sha256::new()
            .chain_update(b"frontdesk key id\0")
            .chain_update(bytes.as_slice())
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self {
            bytes,
            id: KeyId(id),
        }
    }

    /// A key from its configured spelling: 64 hex digits, or base64 (standard or URL-safe,
    /// padded or not) of exactly 32 bytes. Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, KeyFormatError> {
        let text = text.trim();
        let decoded: Zeroizing<Vec<u8>> = Zeroizing::new(if is_hex_key(text) {
            decode_hex(text).ok_or(KeyFormatError)?
        } else {
            use base64::engine::general_purpose::{
                STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
            };
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or(KeyFormatError)?
        });
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| KeyFormatError)?;
        Ok(Self::from_bytes(bytes))
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(key.as_slice());
        Self::from_bytes(bytes)
    }

    /// The key as standard base64, for the development key file (wiped when dropped).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice()))
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.bytes.as_slice().into())
    }
}

fn is_hex_key(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where a sealed value lives: the associated data that binds it to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// The table, schema-qualified (`app.integrations`).
    pub table: &'a str,
    /// The column (`access_token_ciphertext`).
    pub column: &'a str,
    /// The row's tenant, or its user for rows owned by a user rather than a tenant.
    pub scope: Uuid,
    /// The row's id.
    pub row: Uuid,
}

impl Aad<'_> {
    /// The associated data for a value whose header is `header`: unambiguous (each text is
    /// length-prefixed), so no two different places encode alike.
    fn encode(&self, header: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(header.len() + self.table.len() + self.column.len() + 48);
        out.extend_from_slice(header);
        for text in [self.table, self.column] {
            out.extend_from_slice(&(text.len() as u32).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(self.scope.as_bytes());
        out.extend_from_slice(self.row.as_bytes());
        out
    }
}

/// The keys of this process: one that seals, and older ones that still open.
#[derive(Clone)]
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// A keyring sealing with `current` and also opening values sealed under `previous`
    /// (a previous key equal to the current one is dropped).
    pub fn new(current: Key, previous: Vec<Key>) -> Self {
        let mut kept: Vec<Key> = Vec::with_capacity(previous.len());
        for key in previous {
            if key.id != current.id && !kept.iter().any(|k| k.id == key.id) {
                kept.push(key);
            }
        }
        Self {
            current,
            previous: kept,
        }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> KeyId {
        self.current.id
    }

    /// Seals `plaintext` for the place `aad` names, under the current key.
    pub fn seal(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.current.id.0);
        out.extend_from_slice(nonce.as_slice());
        let aad = aad.encode(&out);
        let sealed = self
            .current
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // AES-GCM fails only for plaintexts beyond 64 GiB, which no column holds.
            .map_err(|_| CryptoError::Malformed)?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed for the place `aad` names, under whichever held key its header
    /// names. The plaintext is wiped when the buffer is dropped.
    pub fn open(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let id = key_id_of(sealed).ok_or(CryptoError::Malformed)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or(CryptoError::UnknownKey(id))?;
        let (header, body) = sealed.split_at(HEADER_LEN);
        let nonce = Nonce::from_slice(&header[1 + KEY_ID_LEN..]);
        let aad = aad.encode(header);
        key.cipher()
            .decrypt(
                nonce,
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Forged)
    }

    /// Opens `sealed` and seals it again under the current key, for the same place; `None`
    /// when it is already sealed under the current key (nothing to do).
    pub fn reseal(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
        if key_id_of(sealed) == Some(self.current.id) {
            return Ok(None);
        }
        let plaintext = self.open(aad, sealed)?;
        self.seal(aad, &plaintext).map(Some)
    }
}

/// The key id in a sealed value's header, when it is a sealed value of a known version.
pub fn key_id_of(sealed: &[u8]) -> Option<KeyId> {
    if sealed.len() < MIN_SEALED_LEN || sealed[0] != VERSION {
        return None;
    }
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&sealed[1..1 + KEY_ID_LEN]);
    Some(KeyId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(row: Uuid) -> Aad<'static> {
        Aad {
            table: "app.integrations",
            column: "access_token_ciphertext",
            scope: Uuid::from_u128(7),
            row,
        }
    }

    fn ring() -> Keyring {
        Keyring::new(Key::from_bytes([1; 32]), vec![])
    }

    #[test]
    fn a_sealed_value_opens_to_its_plaintext_and_does_not_contain_it() {
        let k = ring();
        let aad = place(Uuid::from_u128(1));
        let sealed = k.seal(&aad, b"ya29.secret-access-token").expect("seal");
        assert!(!sealed
            .windows(b"secret".len())
            .any(|w| w == b"secret".as_slice()));
        assert_eq!(
            sealed.len(),
            MIN_SEALED_LEN + b"ya29.secret-access-token".len()
        );
        assert_eq!(
            k.open(&aad, &sealed).expect("open").as_slice(),
            b"ya29.secret-access-token"
        );
        // A fresh nonce every time: the same plaintext never seals alike.
        assert_ne!(
            sealed,
            k.seal(&aad, b"ya29.secret-access-token").expect("seal")
        );
    }

    #[test]
    fn a_value_moved_to_another_row_column_or_tenant_does_not_open() {
        let k = ring();
        let aad = place(Uuid::from_u128(1));
        let sealed = k.seal(&aad, b"token").expect("seal");
        let elsewhere = [
            place(Uuid::from_u128(2)),
            Aad {
                column: "refresh_token_ciphertext",
                ..aad
            },
            Aad {
                scope: Uuid::from_u128(8),
                ..aad
            },
            Aad {
                table: "app.assistants",
                ..aad
            },
        ];
        for other in elsewhere {
            assert_eq!(
                k.open(&other, &sealed),
                Err(CryptoError::Forged),
                "{other:?}"
            );
        }
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let k = ring();
        let aad = place(Uuid::from_u128(1));
        let mut sealed = k.seal(&aad, b"token").expect("seal");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(k.open(&aad, &sealed), Err(CryptoError::Forged));
        assert_eq!(k.open(&aad, b"plain text"), Err(CryptoError::Malformed));
    }

    #[test]
    fn another_key_does_not_open_and_is_named_by_its_id() {
        let aad = place(Uuid::from_u128(1));
        let sealed = ring().seal(&aad, b"token").expect("seal");
        let other = Keyring::new(Key::from_bytes([2; 32]), vec![]);
        let id = Key::from_bytes([1; 32]).id();
        assert_eq!(other.open(&aad, &sealed), Err(CryptoError::UnknownKey(id)));
        // A forged header naming the other key's id still fails: the header is authenticated.
        let mut relabelled = sealed.clone();
        relabelled[1..9].copy_from_slice(&other.current_id().0);
        assert_eq!(other.open(&aad, &relabelled), Err(CryptoError::Forged));
    }

    #[test]
    fn the_key_id_is_stored_with_the_value_and_previous_keys_still_open() {
        let old = Key::from_bytes([1; 32]);
        let new = Key::from_bytes([2; 32]);
        assert_ne!(old.id(), new.id());
        let aad = place(Uuid::from_u128(1));
        let sealed = Keyring::new(old.clone(), vec![])
            .seal(&aad, b"t")
            .expect("seal");
        assert_eq!(key_id_of(&sealed), Some(old.id()));

        let rotated = Keyring::new(new.clone(), vec![old.clone()]);
        assert_eq!(rotated.open(&aad, &sealed).expect("open").as_slice(), b"t");
        let resealed = rotated
            .reseal(&aad, &sealed)
            .expect("reseal")
            .expect("changed");
        assert_eq!(key_id_of(&resealed), Some(new.id()));
        assert_eq!(rotated.reseal(&aad, &resealed).expect("reseal"), None);
        // Without the old key the new value still opens; the old one no longer does.
        let only_new = Keyring::new(new, vec![]);
        assert_eq!(
            only_new.open(&aad, &resealed).expect("open").as_slice(),
            b"t"
        );
        assert_eq!(
            only_new.open(&aad, &sealed),
            Err(CryptoError::UnknownKey(old.id()))
        );
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_nothing_else() {
        let hex = "00".repeat(31) + "ff";
        let mut bytes = [0u8; 32];
        bytes[31] = 0xff;
        assert_eq!(
            Key::parse(&hex).expect("hex").id(),
            Key::from_bytes(bytes).id()
        );
        let b64 = Key::from_bytes(bytes).to_base64();
        assert_eq!(
            Key::parse(&b64).expect("b64").id(),
            Key::from_bytes(bytes).id()
        );
        assert_eq!(
            Key::parse(b64.trim_end_matches('='))
                .expect("unpadded")
                .id(),
            Key::from_bytes(bytes).id()
        );
        for bad in ["", "short", &"ab".repeat(31), &"zz".repeat(32), "c2hvcnQ="] {
            assert_eq!(
                Key::parse(bad).map(|k| k.id()),
                Err(KeyFormatError),
                "{bad}"
            );
        }
        let generated = Key::generate();
        assert_ne!(generated.id(), Key::generate().id());
    }

    #[test]
    fn debug_output_shows_key_ids_only() {
        let key = Key::from_bytes([0xab; 32]);
        let ring = Keyring::new(key.clone(), vec![Key::from_bytes([3; 32])]);
        let shown = format!("{key:?} {ring:?}");
        assert!(!shown.contains("171, 171"), "{shown}"); // the bytes, as `[u8]` would print
        assert!(!shown.contains(&*key.to_base64()), "{shown}");
        assert!(shown.contains(&key.id().to_string()), "{shown}");
    }
}
