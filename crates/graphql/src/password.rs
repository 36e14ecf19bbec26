//! Passwords: the policy for new ones, hashing (argon2id), and verifying stored hashes —
//! argon2 for ours, bcrypt (`$2a$`/`$2b$`/`$2y$`) for the agents imported from seed 003 —
//! with the upgrade of anything that is not argon2id on the next successful check.
//!
//! Both algorithms are deliberately slow, so the work runs off the async threads. A check
//! without a usable hash (unknown user, OAuth-only user, unreadable hash) still does one
//! argon2 verification against a dummy hash with the real parameters, so the response time
//! does not tell whether the account exists or has a password.
//!
//! Policy for new passwords (`acceptInvitation`, `changeMyPassword`): at least
//! [`PASSWORD_MIN`] characters and at most [`PASSWORD_MAX`], nothing else — length is what
//! makes a password hard to guess (NIST SP 800-63B); composition rules only make people pick
//! predictable ones. Existing passwords are checked whatever their length, up to the maximum.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::ApiError;

/// Shortest new password accepted.
pub const PASSWORD_MIN: usize = 8;

/// Longest password accepted. Argon2 hashes any length, but nobody types more, and a bound
/// keeps a request from making us hash megabytes.
pub const PASSWORD_MAX: usize = 1_024;

/// `BAD_USER_INPUT` on `field` unless `password` may be checked at all (not over the maximum).
pub fn check_length(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() > PASSWORD_MAX {
        // Says nothing about any account: the limit is the same for everyone.
        return Err(ApiError::BadUserInput {
            field: field.to_owned(),
            message: format!("is too long: at most {PASSWORD_MAX} characters are allowed"),
        });
    }
    Ok(())
}

/// `BAD_USER_INPUT` on `field` unless `password` meets the policy for new passwords.
pub fn check_new(field: &str, password: &str) -> Result<(), ApiError> {
    check_length(field, password)?;
    if password.chars().count() < PASSWORD_MIN {
        return Err(ApiError::BadUserInput {
            field: field.to_owned(),
            message: format!("is too short: at least {PASSWORD_MIN} characters are required"),
        });
    }
    Ok(())
}

/// The argon2id PHC string of `password` (default parameters, random salt).
pub async fn hash(password: String) -> Result<String, ApiError> {
    blocking(move || argon2id(&password)).await?
}

fn argon2id(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string().into()))
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password does not match (or there is nothing to match it against).
    No,
    /// It matches; `rehash` is an argon2id hash to store instead of a weaker one.
    Yes {
        /// The replacement hash, when the stored one is not argon2id.
        rehash: Option<String>,
    },
}

/// Checks `password` against the stored PHC string `stored` (`None`: the account has no
/// password, or there is no account).
pub async fn verify(stored: Option<String>, password: String) -> Result<Verified, ApiError> {
    blocking(move || {
        let Some(stored) = stored else {
            dummy_check(&password);
            return Ok(Verified::No);
        };
        let matches = if is_bcrypt(&stored) {
            bcrypt::verify(password.as_bytes(), &stored).unwrap_or(false)
        } else if stored.starts_with("$argon2") {
            PasswordHash::new(&stored)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        } else {
            dummy_check(&password);
            false
        };
        if !matches {
            return Ok(Verified::No);
        }
        let rehash = if stored.starts_with("$argon2id$") {
            None
        } else {
            Some(argon2id(&password)?)
        };
        Ok(Verified::Yes { rehash })
    })
    .await?
}

fn is_bcrypt(phc: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| phc.starts_with(p))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// An argon2 verification that fails, costing what a real one does.
fn dummy_check(password: &str) {
    if let Ok(parsed) = PasswordHash::new(dummy_hash()) {
        let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
    }
}

/// A hash to verify against when there is no real one, with the default (real) parameters so
/// the check costs what a real one does. Computed once per process; the salt is fixed because
/// nothing is protected by it (its result is always ignored).
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        SaltString::encode_b64(b"frontdesk-login-dummy")
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"no password matches this", &salt)
                    .map(|h| h.to_string())
                    .ok()
            })
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_uses_the_default_argon2id_parameters() {
        let parsed = PasswordHash::new(dummy_hash()).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let defaults = argon2::Params::default();
        let params = argon2::Params::try_from(&parsed).expect("argon2 params");
        assert_eq!(params.m_cost(), defaults.m_cost());
        assert_eq!(params.t_cost(), defaults.t_cost());
        assert_eq!(params.p_cost(), defaults.p_cost());
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_are_upgraded_to_argon2id() {
        let stored = bcrypt::hash("correct horse", 4).expect("bcrypt");
        let stored = stored.replacen("$2b$", "$2y$", 1);
        assert_eq!(
            verify(Some(stored.clone()), "wrong".into()).await.ok(),
            Some(Verified::No)
        );
        match verify(Some(stored), "correct horse".into()).await {
            Ok(Verified::Yes { rehash: Some(new) }) => {
                assert!(new.starts_with("$argon2id$"), "{new}");
                assert_eq!(
                    verify(Some(new), "correct horse".into()).await.ok(),
                    Some(Verified::Yes { rehash: None })
                );
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[test]
    fn new_passwords_need_the_minimum_length() {
        assert!(check_new("password", "short").is_err());
        assert!(check_new("password", "long enough").is_ok());
        assert!(check_new("password", &"x".repeat(PASSWORD_MAX + 1)).is_err());
    }
}
