//! Invitation tokens, and `acceptInvitation`: the other mutation an anonymous caller may use.
//!
//! A token is 32 random bytes from the operating system, base64url-encoded (43 characters);
//! only its SHA-256 hash is stored (migration 0013), so the token is shown exactly once, in
//! `inviteMember`'s payload. A hash suffices — no salt, no slow hash — because the token is
//! random and long: nobody can guess one or invert its hash, unlike a password.
//!
//! Accepting proves the token and then acts as the invitee in the invitation's tenant, which
//! the token alone determines (see `frontdesk_db::invitations` for the three scopes it walks
//! through). A person without a password chooses one here (the policy of
//! [`crate::password`]); a person who has one — invited to a further tenant — must give it,
//! so a leaked link alone does not open their account. An unknown, used or expired token and
//! a wrong password all get the one `UNAUTHENTICATED` error, so a caller learns nothing about
//! which tokens exist. On success the invitation is used up, the membership is active, the
//! sign-in is recorded like a log-in, and the payload is `login`'s: an access token for that
//! tenant.

use async_graphql::{Context, Object};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use frontdesk_db::invitations::{self, Accepted};
use frontdesk_db::{Db, TenantCtx};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::login::{signed_in, LoginPayload};
use crate::password::{self, Verified};
use crate::{ApiError, Principal, RequestCtx, Role, TokenKeys};

/// How long an invitation works.
pub(crate) const INVITATION_DAYS: i32 = 7;

/// The one message for every refused token or password.
const INVALID: &str = "this invitation cannot be accepted: it is unknown, used or expired, \
                       or the password does not match the account's";

/// A new token and the hash to store.
pub(crate) fn new_token() -> (String, [u8; 32]) {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn invalid() -> ApiError {
    ApiError::Unauthenticated(INVALID.into())
}

async fn accept(
    db: &Db,
    keys: &TokenKeys,
    req: &RequestCtx,
    token: &str,
    password: String,
) -> Result<LoginPayload, ApiError> {
    password::check_length("password", &password)?;
    let hash = token_hash(token.trim());

    let mut tx = db.begin_invitation(&hash).await?;
    let pending = invitations::pending(&mut tx).await?;
    tx.rollback().await?;
    let Some(invitation) = pending else {
        // As much work as a real acceptance, so timing does not tell a valid token either.
        password::verify(None, password).await?;
        return Err(invalid());
    };

    let mut tx = db.begin_user(invitation.user_id).await?;
    let invitee = invitations::invitee(&mut tx).await?.ok_or_else(invalid)?;
    tx.rollback().await?;
    let (new_password, rehash) = match invitee.password_hash.clone() {
        Some(stored) => match password::verify(Some(stored), password).await? {
            Verified::Yes { rehash } => (None, rehash),
            Verified::No => return Err(invalid()),
        },
        None => {
            password::check_new("password", &password)?;
            (Some(password::hash(password).await?), None)
        }
    };
    if invitee.account_status != "active" {
        return Err(ApiError::Forbidden(format!(
            "this account is {}; it cannot sign in",
            invitee.account_status
        )));
    }

    let mut tx = db
        .begin_tenant_for(
            TenantCtx {
                tenant_id: invitation.tenant_id,
                user_id: Some(invitation.user_id),
            },
            &req.meta(),
        )
        .await?;
    let role = match invitations::accept(&mut tx, &hash, new_password.as_deref()).await? {
        Accepted::Joined { role } => role,
        // Used or expired since the look-up, or a password appeared meanwhile.
        Accepted::Refused => return Err(invalid()),
    };
    let role: Role = role
        .parse()
        .map_err(|e: String| ApiError::Internal(e.into()))?;
    let principal = Principal {
        user_id: invitation.user_id,
        tenant_id: invitation.tenant_id,
        role,
    };
    let rehash = invitee.password_hash.as_deref().zip(rehash.as_deref());
    signed_in(tx, keys, req, principal, rehash).await
}

/// Joining a team.
#[derive(Debug, Default)]
pub struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Accepts an invitation (the token from `inviteMember`) and signs in to its tenant. Needs
    /// no access token. A person without a password sets it here (at least 8 characters); a
    /// person who already has one gives it. Works once, until the invitation expires; an
    /// unknown, used or expired token and a wrong password all get the same
    /// `UNAUTHENTICATED` error.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let req = ctx.data::<RequestCtx>()?;
        let db = ctx.data::<Db>()?;
        let keys = ctx.data::<TokenKeys>()?;
        accept(db, keys, req, &token, password)
            .await
            .map_err(|e| e.into_graphql(&req.request_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_their_hash() {
        let (a, ha) = new_token();
        let (b, hb) = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert_eq!(ha, token_hash(&a));
    }
}
