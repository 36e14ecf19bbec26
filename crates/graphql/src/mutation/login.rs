//! `login`: exchanges an e-mail address and password for an access token.
//!
//! The one mutation anonymous callers may use, so it never goes through `Resolve::run` (which
//! demands a token) and never opens the request's tenant transaction: the caller has no tenant
//! yet. It reads identity rows through the two narrow scopes made for this
//! (`frontdesk_db::Db::begin_login`, which sees only the rows of the e-mail address being
//! tried, and — once the password is proven — `begin_user`, which sees that user's own
//! memberships).
//!
//! What a guesser can learn is kept to nothing: an unknown address, a user without a password
//! (OAuth-only), a hash we cannot verify and a wrong password all give the same
//! `UNAUTHENTICATED` error, after the same work — an unknown user's password is checked
//! against a dummy argon2id hash made with the default parameters real hashes use, so the
//! response time does not tell whether the address exists. Only after the password checks
//! out are account state and tenants discussed. Passwords are checked against
//! `users.password_hash` (memberships carry no credentials: one person, one password, many
//! tenants), off the async threads because argon2 is deliberately slow.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::identity::{self, LoginCandidate, LoginMembership};
use frontdesk_db::Db;
use uuid::Uuid;

use crate::validate::EMAIL_MAX;
use crate::{ApiError, Principal, RequestCtx, Role, TokenKeys};

/// Longest password accepted. Argon2 hashes any length, but nobody types more, and a bound
/// keeps a request from making us hash megabytes.
pub const PASSWORD_MAX: usize = 1_024;

/// The one message for every failed credential check.
const INVALID: &str = "the e-mail address or password is incorrect";

/// An access token and who it acts as.
#[derive(Debug, Clone, SimpleObject)]
pub struct LoginPayload {
    /// Bearer token for the `Authorization` header.
    pub access_token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user_id: Uuid,
    /// The tenant the token acts for.
    pub tenant_id: Uuid,
    /// The user's role in that tenant.
    pub role: Role,
}

/// Log-in.
#[derive(Debug, Default)]
pub struct LoginMutation;

#[Object]
impl LoginMutation {
    /// Signs in with e-mail and password and returns an access token for one of the user's
    /// tenants: `tenantId`, or the only tenant the user belongs to (with several, `tenantId`
    /// is required). Needs no token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        tenant_id: Option<Uuid>,
    ) -> async_graphql::Result<LoginPayload> {
        let request_id = ctx.data::<RequestCtx>()?.request_id.clone();
        let db = ctx.data::<Db>()?;
        let keys = ctx.data::<TokenKeys>()?;
        login(db, keys, &email, password, tenant_id)
            .await
            .map_err(|e| e.into_graphql(&request_id))
    }
}

async fn login(
    db: &Db,
    keys: &TokenKeys,
    email: &str,
    password: String,
    tenant_id: Option<Uuid>,
) -> Result<LoginPayload, ApiError> {
    if password.chars().count() > PASSWORD_MAX {
        // Says nothing about the account: the limit is the same for everyone.
        return Err(ApiError::BadUserInput {
            field: "password".into(),
            message: format!("is too long: at most {PASSWORD_MAX} characters are allowed"),
        });
    }
    let email = email.trim();
    // An address that cannot exist is looked up like any unknown one, so it costs the same.
    let candidate = if email.is_empty() || email.chars().count() > EMAIL_MAX {
        None
    } else {
        let mut tx = db.begin_login(email).await?;
        let found = identity::login_candidate(&mut tx).await?;
        tx.rollback().await?;
        found
    };
    let user = verify(candidate, password).await?;
    if user.account_status != "active" {
        return Err(ApiError::Forbidden(format!(
            "this account is {}; it cannot sign in",
            user.account_status
        )));
    }

    let mut tx = db.begin_user(user.user_id).await?;
    let memberships = identity::active_memberships(&mut tx).await?;
    let membership = choose(&memberships, tenant_id)?;
    identity::record_login(&mut tx).await?;
    tx.commit().await?;

    let role: Role = membership
        .role
        .parse()
        .map_err(|e: String| ApiError::Internal(e.into()))?;
    let principal = Principal {
        user_id: user.user_id,
        tenant_id: membership.tenant_id,
        role,
    };
    // Taken before minting, so the token's `exp` (whole seconds) is never earlier than this.
    let expires_at = Utc::now() + keys.ttl();
    Ok(LoginPayload {
        access_token: keys.mint(&principal),
        expires_at,
        user_id: principal.user_id,
        tenant_id: principal.tenant_id,
        role,
    })
}

/// The tenant to sign in to.
fn choose(
    memberships: &[LoginMembership],
    tenant_id: Option<Uuid>,
) -> Result<&LoginMembership, ApiError> {
    match (tenant_id, memberships) {
        (Some(t), _) => memberships
            .iter()
            .find(|m| m.tenant_id == t)
            .ok_or_else(|| {
                ApiError::Forbidden("you have no active membership in this tenant".into())
            }),
        (None, [only]) => Ok(only),
        (None, []) => Err(ApiError::Forbidden(
            "you have no active membership in any tenant".into(),
        )),
        (None, _) => Err(ApiError::BadUserInput {
            field: "tenantId".into(),
            message: "you belong to several tenants: name the one to sign in to".into(),
        }),
    }
}

/// The candidate whose password `password` is, or the one `UNAUTHENTICATED` error.
async fn verify(
    candidate: Option<LoginCandidate>,
    password: String,
) -> Result<LoginCandidate, ApiError> {
    let hash = candidate
        .as_ref()
        .and_then(|c| c.password_hash.clone())
        // Only argon2 hashes can be checked here; bcrypt hashes of imported users (accepted by
        // the schema so they can be rehashed) fail like a wrong password until they are.
        .filter(|h| h.starts_with("$argon2"));
    let real = hash.is_some();
    let ok = tokio::task::spawn_blocking(move || {
        let phc = match &hash {
            Some(h) => h.as_str(),
            None => dummy_hash(),
        };
        let matches = PasswordHash::new(phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        matches && real
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    match candidate {
        Some(c) if ok => Ok(c),
        _ => Err(ApiError::Unauthenticated(INVALID.into())),
    }
}

/// A hash to verify against when there is no real one, with the default (real) parameters so
/// the check costs what a real one does. Computed once per process; the salt is fixed because
/// nothing is protected by it (no password verifies against it on purpose: see `verify`).
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

    #[test]
    fn a_single_membership_is_chosen_and_several_need_a_tenant_id() {
        let a = LoginMembership {
            tenant_id: Uuid::new_v4(),
            role: "agent".into(),
        };
        let b = LoginMembership {
            tenant_id: Uuid::new_v4(),
            role: "owner".into(),
        };
        let one = [a.clone()];
        assert_eq!(choose(&one, None).expect("only").tenant_id, a.tenant_id);
        let two = [a.clone(), b.clone()];
        match choose(&two, None) {
            Err(ApiError::BadUserInput { field, message }) => {
                assert_eq!(field, "tenantId");
                assert!(!message.contains(&a.tenant_id.to_string()));
            }
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
        assert_eq!(choose(&two, Some(b.tenant_id)).expect("b").role, "owner");
        assert!(matches!(
            choose(&two, Some(Uuid::new_v4())),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(choose(&[], None), Err(ApiError::Forbidden(_))));
    }
}
