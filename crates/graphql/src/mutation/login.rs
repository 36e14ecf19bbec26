//! `login`: exchanges an e-mail address and password for an access token.
//!
//! One of the two mutations anonymous callers may use (with `acceptInvitation`), so it never
//! goes through `Resolve::run` (which demands a token) and never opens the request's tenant
//! transaction: the caller has no tenant yet. It reads identity rows through the two narrow
//! scopes made for this (`frontdesk_db::Db::begin_login`, which sees only the rows of the
//! e-mail address being tried, and — once the password is proven — `begin_user`, which sees
//! that user's own memberships), and records the sign-in in the chosen tenant's scope.
//!
//! What a guesser can learn is kept to nothing: an unknown address, a user without a password
//! (OAuth-only), a hash we cannot verify and a wrong password all give the same
//! `UNAUTHENTICATED` error, after the same work (see [`crate::password`]). Only after the
//! password checks out are account state and tenants discussed. Passwords are checked against
//! `users.password_hash` (memberships carry no credentials: one person, one password, many
//! tenants). A bcrypt hash (agents imported from seed 003) that verifies is replaced by an
//! argon2id one in the same flow.
//!
//! Guessing is also rate-limited, in PostgreSQL so that every replica shares the count
//! (migration 0013, `app.login_attempt_begin`): [`LIMITS`] — at most 5 attempts per e-mail
//! address and 20 per client address within 15 minutes. Each attempt is counted *before* the
//! password is checked and forgotten when it succeeds (with the e-mail address's earlier
//! failures), so parallel guesses cannot slip under the limit. Past the limit the answer is
//! `RATE_LIMITED` with `extensions.retryAfter` (seconds), whether or not the password would
//! have been right. The client address is the socket peer ([`RequestCtx::client_addr`]);
//! forwarding headers are not trusted, so behind a proxy every client shares the proxy's
//! address and only the per-e-mail limit tells them apart.
//!
//! A successful log-in records `last_login_at` and `login_count` on the user, and
//! `last_login_at` on the membership and on the tenant.

use std::time::Duration;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::audit;
use frontdesk_db::identity::{self, LoginLimits, LoginMembership};
use frontdesk_db::{Db, TenantCtx, TenantTx};
use uuid::Uuid;

use crate::password::{self, Verified};
use crate::validate::EMAIL_MAX;
use crate::{ApiError, Principal, RequestCtx, Role, TokenKeys};

/// The failed-log-in limits: attempts per e-mail address and per client address in a
/// sliding window.
pub const LIMITS: LoginLimits = LoginLimits {
    window: Duration::from_secs(15 * 60),
    per_email: 5,
    per_address: 20,
};

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
    /// is required). Needs no token. At most 5 attempts per e-mail address and 20 per client
    /// address in 15 minutes (a success forgets the address's failures): past that,
    /// `RATE_LIMITED` with `extensions.retryAfter` in seconds.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        tenant_id: Option<Uuid>,
    ) -> async_graphql::Result<LoginPayload> {
        let req = ctx.data::<RequestCtx>()?;
        let db = ctx.data::<Db>()?;
        let keys = ctx.data::<TokenKeys>()?;
        login(db, keys, req, &email, password, tenant_id)
            .await
            .map_err(|e| e.into_graphql(&req.request_id))
    }
}

async fn login(
    db: &Db,
    keys: &TokenKeys,
    req: &RequestCtx,
    email: &str,
    password: String,
    tenant_id: Option<Uuid>,
) -> Result<LoginPayload, ApiError> {
    password::check_length("password", &password)?;
    let email = email.trim();
    throttle(db, email, req).await?;
    // An address that cannot exist is looked up like any unknown one, so it costs the same.
    let candidate = if email.is_empty() || email.chars().count() > EMAIL_MAX {
        None
    } else {
        let mut tx = db.begin_login(email).await?;
        let found = identity::login_candidate(&mut tx).await?;
        tx.rollback().await?;
        found
    };
    let stored = candidate.as_ref().and_then(|c| c.password_hash.clone());
    let (user, rehash) = match (candidate, password::verify(stored.clone(), password).await?) {
        (Some(user), Verified::Yes { rehash }) => (user, rehash),
        _ => {
            // Recorded for every address alike (the database finds the user, if any), so the
            // recording takes the same time whether or not the address is known.
            audit::record_login_failure(db, email, "password", &req.meta()).await?;
            return Err(ApiError::Unauthenticated(INVALID.into()));
        }
    };
    identity::login_succeeded(db, email).await?;
    if user.account_status != "active" {
        audit::record_login_failure(db, email, "account_inactive", &req.meta()).await?;
        return Err(ApiError::Forbidden(format!(
            "this account is {}; it cannot sign in",
            user.account_status
        )));
    }

    let mut tx = db.begin_user(user.user_id).await?;
    let memberships = identity::active_memberships(&mut tx).await?;
    tx.rollback().await?;
    let membership = choose(&memberships, tenant_id)?;
    let role: Role = membership
        .role
        .parse()
        .map_err(|e: String| ApiError::Internal(e.into()))?;
    let principal = Principal {
        user_id: user.user_id,
        tenant_id: membership.tenant_id,
        role,
    };
    let tx = db
        .begin_tenant_for(
            TenantCtx {
                tenant_id: principal.tenant_id,
                user_id: Some(principal.user_id),
            },
            &req.meta(),
        )
        .await?;
    signed_in(
        tx,
        keys,
        req,
        principal,
        stored.as_deref().zip(rehash.as_deref()),
    )
    .await
}

/// `RATE_LIMITED` when `email` or the client's address has used up its attempts; otherwise
/// the attempt is counted (until it succeeds).
pub(crate) async fn throttle(db: &Db, email: &str, req: &RequestCtx) -> Result<(), ApiError> {
    match identity::begin_login_attempt(db, email, req.client_addr, LIMITS).await? {
        Ok(()) => Ok(()),
        Err(retry_after) => Err(ApiError::RetryLater {
            message: format!("too many sign-in attempts; try again in {retry_after} seconds"),
            retry_after,
        }),
    }
}

/// Records the sign-in of `principal` in `tx` (their tenant's scope, acting as them; with
/// `rehash` = `(old, new)` also replacing the password hash) and in the audit trail, commits,
/// and mints their token. Shared with `acceptInvitation`, whose acceptance commits with it.
pub(crate) async fn signed_in(
    mut tx: TenantTx,
    keys: &TokenKeys,
    req: &RequestCtx,
    principal: Principal,
    rehash: Option<(&str, &str)>,
) -> Result<LoginPayload, ApiError> {
    identity::record_login(&mut tx, rehash).await?;
    audit::record_sign_in(&mut tx, &req.meta()).await?;
    tx.commit().await?;
    // Taken before minting, so the token's `exp` (whole seconds) is never earlier than this.
    let expires_at = Utc::now() + keys.ttl();
    Ok(LoginPayload {
        access_token: keys.mint(&principal),
        expires_at,
        user_id: principal.user_id,
        tenant_id: principal.tenant_id,
        role: principal.role,
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

#[cfg(test)]
mod tests {
    use super::*;

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
