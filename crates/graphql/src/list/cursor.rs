//! Opaque, signed pagination cursors.
//!
//! A cursor carries the sort values of a row plus what it is valid for: the tenant and a
//! fingerprint of the list (entity, filter, order). It is signed with the server's key, so a
//! cursor from another tenant, another list or an edited one is refused as `BAD_USER_INPUT`
//! before any SQL runs — and the values inside can be trusted to fit the ordering.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::{ApiError, TokenKeys};

/// Bytes of the HMAC tag kept in a cursor (128 bits).
const TAG_LEN: usize = 16;

/// Encodes `values` as a cursor for `tenant` and the list `fingerprint`.
pub fn encode(keys: &TokenKeys, tenant: Uuid, fingerprint: &str, values: &[String]) -> String {
    let payload = serde_json::json!([fingerprint, tenant, values]).to_string();
    let tag = keys.sign(payload.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
    )
}

/// Decodes a cursor given as argument `field`, checking signature, tenant and list.
pub fn decode(
    keys: &TokenKeys,
    tenant: Uuid,
    fingerprint: &str,
    field: &str,
    cursor: &str,
) -> Result<Vec<String>, ApiError> {
    let bad = |why: &str| ApiError::BadUserInput {
        field: field.to_owned(),
        message: format!("invalid cursor: {why}; use a cursor this list returned"),
    };
    let (payload, tag) = cursor.split_once('.').ok_or_else(|| bad("malformed"))?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| bad("malformed"))?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad("malformed"))?;
    let expected = keys.sign(&payload);
    if tag.len() != TAG_LEN || !constant_time_eq(&tag, &expected[..TAG_LEN]) {
        return Err(bad("not issued by this server or altered"));
    }
    let (fp, owner, values): (String, Uuid, Vec<String>) =
        serde_json::from_slice(&payload).map_err(|_| bad("malformed"))?;
    // A foreign tenant's cursor is indistinguishable from a wrong-list one to the caller.
    if owner != tenant || fp != fingerprint {
        return Err(bad("it belongs to a different list"));
    }
    Ok(values)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &SecretString::from("a-test-secret-that-is-long-enough!!".to_owned()),
            chrono::Duration::hours(1),
        )
    }

    #[test]
    fn a_cursor_round_trips_for_its_tenant_and_list() {
        let t = Uuid::new_v4();
        let c = encode(&keys(), t, "fp", &["2026-01-01".into(), "x".into()]);
        assert_eq!(
            decode(&keys(), t, "fp", "after", &c).expect("valid"),
            vec!["2026-01-01".to_owned(), "x".to_owned()]
        );
    }

    #[test]
    fn a_cursor_is_refused_for_another_tenant_another_list_or_when_altered() {
        let t = Uuid::new_v4();
        let c = encode(&keys(), t, "fp", &["1".into()]);
        assert!(decode(&keys(), Uuid::new_v4(), "fp", "after", &c).is_err());
        assert!(decode(&keys(), t, "other", "after", &c).is_err());
        let mut altered = c.clone();
        altered.insert(3, 'A');
        assert!(decode(&keys(), t, "fp", "after", &altered).is_err());
        assert!(decode(&keys(), t, "fp", "after", "garbage").is_err());
    }
}
