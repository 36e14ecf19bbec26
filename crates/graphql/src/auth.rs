//! Access tokens: HS256 JWTs carrying user, tenant, role, expiry and issuer.
//!
//! The tenant a request acts for comes only from a token verified here — never from a GraphQL
//! argument or a header — which is what makes the RLS context trustworthy.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn derive_mac_key(secret: &[u8]) -> [u8; 32] {
    hmac_sha256(secret, b"frontdesk/cursor-key/v1")
}

/// The issuer every token carries and every verification demands.
pub const ISSUER: &str = "frontdesk";

/// A member's role within a tenant (the seeds' agent roles plus owner and viewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Owns the tenant: billing, integrations, everything.
    Owner,
    /// Manages settings, members and data.
    Admin,
    /// Oversees agents and assignments.
    Supervisor,
    /// Handles conversations, customers and bookings.
    Agent,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The lower-case name stored in `memberships.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may do what `least` may (owner ⊇ admin ⊇ supervisor ⊇ agent ⊇
    /// viewer).
    pub fn includes(self, least: Role) -> bool {
        fn rank(r: Role) -> u8 {
            match r {
                Role::Owner => 4,
                Role::Admin => 3,
                Role::Supervisor => 2,
                Role::Agent => 1,
                Role::Viewer => 0,
            }
        }
        rank(self) >= rank(least)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            "agent" => Ok(Role::Agent),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role '{other}' (expected owner, admin, supervisor, agent or viewer)"
            )),
        }
    }
}

/// The verified caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The acting user.
    pub user_id: Uuid,
    /// The tenant the token was issued for.
    pub tenant_id: Uuid,
    /// The user's role in that tenant.
    pub role: Role,
}

impl Principal {
    /// The database context this caller acts in.
    pub fn tenant_ctx(&self) -> frontdesk_db::TenantCtx {
        frontdesk_db::TenantCtx {
            tenant_id: self.tenant_id,
            user_id: Some(self.user_id),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    tid: Uuid,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
}

/// Why a token was refused. All of them surface as `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token has expired.
    #[error("the access token has expired")]
    Expired,
    /// The signature does not match this server's secret.
    #[error("the access token's signature is invalid")]
    BadSignature,
    /// The token was issued by someone else.
    #[error("the access token was not issued by frontdesk")]
    WrongIssuer,
    /// Not a JWT, wrong algorithm, or missing/ill-typed claims.
    #[error("the access token is malformed")]
    Malformed,
}

/// Signing and verification keys for access tokens. Cheap to clone (shared): the router's
/// state, which axum clones for every request, holds one.
#[derive(Clone)]
pub struct TokenKeys(std::sync::Arc<Keys>);

struct Keys {
    /// Tokens this server verified, with what they verified to (see [`Verified`]).
    verified: Verified,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// HMAC key for opaque values the API hands out (pagination cursors), derived from the
    /// token secret so one secret configures the server, yet never equal to it.
    mac_key: [u8; 32],
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("secret", &"[redacted]")
            .field("ttl", &self.0.ttl)
            .finish()
    }
}

impl TokenKeys {
    /// Keys from a shared secret; tokens live for `ttl`.
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is exact: a token is dead the second its `exp` passes.
        validation.leeway = 0;
        Self(std::sync::Arc::new(Keys {
            verified: Verified::default(),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
            mac_key: derive_mac_key(bytes),
        }))
    }

    /// An HMAC-SHA256 tag over `data` (cursor signatures).
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        hmac_sha256(self.0.mac_key.as_slice(), data)
    }

    /// How long minted tokens live.
    pub fn ttl(&self) -> Duration {
        self.0.ttl
    }

    /// Mints a token for `principal`, valid for the configured lifetime.
    pub fn mint(&self, principal: &Principal) -> String {
        self.mint_with_ttl(principal, self.0.ttl)
    }

    /// Mints a token with an explicit lifetime (negative lifetimes make expired tokens).
    pub fn mint_with_ttl(&self, principal: &Principal, ttl: Duration) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: principal.user_id,
            tid: principal.tenant_id,
            role: principal.role,
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
        };
        // HS256 signing of a serialisable struct cannot fail; fall back to an unusable token
        // rather than panicking if it ever did.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .unwrap_or_default()
    }

    /// Verifies signature, algorithm, issuer and expiry, and returns the caller.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_until(token).map(|(p, _)| p)
    }

    /// The caller a token names when it was refused only for having expired: its signature,
    /// algorithm and issuer verify, so its claims are this server's own (the audit trail
    /// records the refusal in that tenant). `None` for any other token.
    pub fn expired_principal(&self, token: &str) -> Option<Principal> {
        let mut validation = self.0.validation.clone();
        validation.validate_exp = false;
        let c = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &validation)
            .ok()?
            .claims;
        (c.exp <= Utc::now().timestamp()).then_some(Principal {
            user_id: c.sub,
            tenant_id: c.tid,
            role: c.role,
        })
    }

    /// Like [`Self::verify`], also returning when the token expires (a WebSocket connection
    /// authenticated by it is closed then).
    pub fn verify_until(&self, token: &str) -> Result<(Principal, DateTime<Utc>), AuthError> {
        let now = Utc::now().timestamp();
        if let Some((principal, exp)) = self.0.verified.get(token, now) {
            let expires = DateTime::from_timestamp(exp, 0).ok_or(AuthError::Malformed)?;
            return Ok((principal, expires));
        }
        let (principal, exp) = self.decode(token)?;
        let expires = DateTime::from_timestamp(exp, 0).ok_or(AuthError::Malformed)?;
        self.0.verified.insert(token, principal, exp);
        Ok((principal, expires))
    }

    /// The full check: signature, algorithm, issuer, expiry and claims.
    fn decode(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                _ => AuthError::Malformed,
            })?;
        let c = data.claims;
        let principal = Principal {
            user_id: c.sub,
            tenant_id: c.tid,
            role: c.role,
        };
        Ok((principal, c.exp))
    }
}

/// Tokens that verified, by their exact text, with the caller and expiry they verified to.
///
/// # Why
/// A client sends the same token with every request until it expires, and checking it
/// (base64, two JSON documents, an HMAC-SHA256) was a seventh of the server's instructions
/// for a single-row read. The verdict is a pure function of the token's bytes, this
/// server's key and the clock, so it is remembered for as long as it cannot change: until
/// the second of the token's `exp`, after which the full check runs again (and refuses it).
/// Only tokens that verified are kept, so a stream of forged or malformed tokens costs the
/// full check each time and takes no memory; the keys, and with them this memo, last as long
/// as the process.
#[derive(Default)]
struct Verified(std::sync::Mutex<std::collections::HashMap<Box<str>, (Principal, i64)>>);

impl Verified {
    /// The most tokens remembered; the memo starts over when it fills.
    const MAX: usize = 4096;

    /// The caller and expiry `token` verified to, while `now` is before its expiry.
    fn get(&self, token: &str, now: i64) -> Option<(Principal, i64)> {
        let known = self.lock();
        known.get(token).copied().filter(|&(_, exp)| now < exp)
    }

    fn insert(&self, token: &str, principal: Principal, exp: i64) {
        let mut known = self.lock();
        if known.len() >= Self::MAX {
            known.clear();
        }
        known.insert(token.into(), (principal, exp));
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<Box<str>, (Principal, i64)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret.to_owned()), Duration::hours(1))
    }

    fn principal() -> Principal {
        Principal {
            user_id: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            role: Role::Agent,
        }
    }

    #[test]
    fn a_minted_token_verifies_to_the_same_principal() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        let p = principal();
        assert_eq!(k.verify(&k.mint(&p)), Ok(p));
    }

    #[test]
    fn a_remembered_token_is_served_only_before_its_expiry_second_and_only_for_its_exact_text() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        let p = principal();
        let t = k.mint(&p);
        assert_eq!(k.verify(&t), Ok(p));
        assert_eq!(k.verify(&t), Ok(p), "the second time, from the memo");
        let (_, exp) = k.0.verified.get(&t, 0).expect("remembered");
        assert_eq!(k.0.verified.get(&t, exp - 1).map(|(q, _)| q), Some(p));
        assert_eq!(
            k.0.verified.get(&t, exp),
            None,
            "dead the second exp passes"
        );
        // One character changed is another token: checked in full, and refused.
        let at = t.find('.').expect("a JWT") + 5;
        let mut forged = t.clone();
        let other = if &t[at..=at] == "A" { "B" } else { "A" };
        forged.replace_range(at..=at, other);
        assert!(k.verify(&forged).is_err());
        assert!(
            k.0.verified.get(&forged, 0).is_none(),
            "refusals are not remembered"
        );
    }

    #[test]
    fn the_memo_of_verified_tokens_never_holds_more_than_its_bound() {
        let memo = Verified::default();
        let p = principal();
        for i in 0..=Verified::MAX {
            memo.insert(&format!("token-{i}"), p, i64::MAX);
        }
        assert!(memo.lock().len() <= Verified::MAX);
        assert!(memo.get(&format!("token-{}", Verified::MAX), 0).is_some());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        let p = principal();
        let t = k.mint_with_ttl(&p, Duration::seconds(-5));
        assert_eq!(k.verify(&t), Err(AuthError::Expired));
        assert_eq!(k.expired_principal(&t), Some(p));
    }

    #[test]
    fn only_an_expired_token_of_ours_names_its_caller_when_refused() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        assert_eq!(k.expired_principal(&k.mint(&principal())), None);
        let foreign = keys("another-secret-another-secret-1234")
            .mint_with_ttl(&principal(), Duration::seconds(-5));
        assert_eq!(k.expired_principal(&foreign), None);
        assert_eq!(k.expired_principal("not-a-jwt"), None);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let t = keys("another-secret-another-secret-1234").mint(&principal());
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        assert_eq!(k.verify(&t), Err(AuthError::BadSignature));
    }

    #[test]
    fn garbage_and_tampered_tokens_are_malformed_or_badly_signed() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        assert_eq!(k.verify("not-a-jwt"), Err(AuthError::Malformed));
        assert_eq!(k.verify(""), Err(AuthError::Malformed));
        let t = k.mint(&principal());
        let mut parts: Vec<&str> = t.split('.').collect();
        // Swap in a payload claiming another tenant: the signature no longer matches.
        let forged = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
                r#"{{"sub":"{}","tid":"{}","role":"owner","iss":"frontdesk","iat":0,"exp":99999999999}}"#,
                Uuid::new_v4(),
                Uuid::new_v4()
            ))
        };
        parts[1] = &forged;
        assert_eq!(k.verify(&parts.join(".")), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_token_from_another_issuer_is_refused() {
        let secret = "a-very-long-test-secret-of-32-bytes!!";
        let claims = serde_json::json!({
            "sub": Uuid::new_v4(), "tid": Uuid::new_v4(), "role": "agent",
            "iss": "someone-else", "iat": 0, "exp": Utc::now().timestamp() + 600
        });
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode");
        assert_eq!(keys(secret).verify(&t), Err(AuthError::WrongIssuer));
    }

    #[test]
    fn the_none_algorithm_and_other_algorithms_are_refused() {
        let k = keys("a-very-long-test-secret-of-32-bytes!!");
        let t = k.mint(&principal());
        let payload = t.split('.').nth(1).expect("payload");
        // {"alg":"none","typ":"JWT"}
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(k.verify(&unsigned), Err(AuthError::Malformed));
        // {"alg":"HS512","typ":"JWT"} with the original signature
        let sig = t.split('.').nth(2).expect("sig");
        let hs512 = format!("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.{payload}.{sig}");
        assert!(k.verify(&hs512).is_err());
    }

    #[test]
    fn a_token_with_an_unknown_role_is_malformed() {
        let secret = "a-very-long-test-secret-of-32-bytes!!";
        let claims = serde_json::json!({
            "sub": Uuid::new_v4(), "tid": Uuid::new_v4(), "role": "god",
            "iss": ISSUER, "iat": 0, "exp": Utc::now().timestamp() + 600
        });
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode");
        assert_eq!(keys(secret).verify(&t), Err(AuthError::Malformed));
    }
}
