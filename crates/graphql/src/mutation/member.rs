//! Managing the team: `inviteMember`, `changeMemberRole`, `setMemberPermissions`,
//! `deactivateMember`, `reactivateMember`.
//!
//! All of them take what `Member` declares for writes (supervisor or above, with
//! `manage:agents`), and then the rules that keep a tenant governable, checked against the
//! target's membership row locked for the rest of the request (so a concurrent change cannot
//! slip between check and write):
//!
//! - only an owner manages owners and admins, and only an owner makes someone owner or admin
//!   (`FORBIDDEN`);
//! - nobody grants a permission they do not hold themselves (`FORBIDDEN`), so `manage:agents`
//!   cannot be used to climb to `system:admin`;
//! - an owner's role is not changed here, by anyone (`CONFLICT`): ownership changes hands by
//!   making another member owner first;
//! - nobody deactivates themselves (`FORBIDDEN`), and the last active owner is never
//!   deactivated (`CONFLICT`), so a tenant always has someone who can manage it.
//!
//! A member is named by their `Member` id (the user id); another tenant's member is
//! `NOT_FOUND` like a missing one.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::members::{self, MembershipFields, Standing};
use frontdesk_db::graph::Patch;
use frontdesk_db::invitations::{self, InviteOutcome, NewInvitation};
use uuid::Uuid;

use super::invitation::{new_token, INVITATION_DAYS};
use super::{db_error, read_back, write_error, Target};
use crate::entity::{authorize, Grants, NodeRef, Op};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, Permission};
use crate::types::Member;
use crate::validate::{self, NAME_MAX, SHORT_TEXT_MAX};
use crate::{ApiError, Role};

const MEMBER: Target = Target {
    what: "Member",
    field: "id",
};

/// The result of `inviteMember`.
#[derive(Debug, Clone, SimpleObject)]
pub struct InviteMemberPayload {
    /// The invited member (inactive, `invitationPending`, until they accept).
    pub member: Member,
    /// The one-time token for `acceptInvitation`. Shown here once and never again: only its
    /// hash is stored. Send it to the invitee (e.g. in a link); do not log it.
    pub invitation_token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// What a management mutation changes.
#[derive(Debug, Clone, Copy)]
enum Change<'a> {
    Role(Role),
    Permissions(&'a [Permission]),
    Deactivate,
    Reactivate,
}

fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden(message.to_owned())
}

/// `FORBIDDEN` unless `caller` may give someone `role`.
fn may_give_role(caller: &Grants, role: Role) -> Result<(), ApiError> {
    if matches!(role, Role::Owner | Role::Admin) && caller.role != Role::Owner {
        return Err(forbidden("only an owner may make someone owner or admin"));
    }
    Ok(())
}

/// `FORBIDDEN` unless `caller` holds every one of `permissions`.
fn may_grant(caller: &Grants, permissions: &[Permission]) -> Result<(), ApiError> {
    match permissions.iter().find(|p| !caller.permissions.contains(p)) {
        Some(p) => Err(ApiError::Forbidden(format!(
            "you cannot grant {}, which you do not hold yourself",
            p.as_db()
        ))),
        None => Ok(()),
    }
}

/// Database spellings, each once, in the enum's order.
fn stored(permissions: &[Permission]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(permissions.len());
    for p in permissions {
        if !out.iter().any(|s| s == p.as_db()) {
            out.push(p.as_db().to_owned());
        }
    }
    out
}

/// Checks `change` of member `target_id` (standing `target`) by the caller.
fn guard(
    caller: &Grants,
    caller_id: Uuid,
    target_id: Uuid,
    target: &Standing,
    change: Change<'_>,
) -> Result<Role, ApiError> {
    let role: Role = target
        .role
        .parse()
        .map_err(|e: String| ApiError::Internal(e.into()))?;
    if matches!(role, Role::Owner | Role::Admin) && caller.role != Role::Owner {
        return Err(forbidden("only an owner may manage owners and admins"));
    }
    match change {
        Change::Role(new) => {
            if role == Role::Owner && new != Role::Owner {
                return Err(ApiError::Conflict(
                    "an owner's role cannot be changed; make another member owner instead".into(),
                ));
            }
            may_give_role(caller, new)?;
        }
        Change::Permissions(list) => may_grant(caller, list)?,
        Change::Deactivate if target_id == caller_id => {
            return Err(forbidden("you cannot deactivate yourself"));
        }
        Change::Deactivate | Change::Reactivate => {}
    }
    Ok(role)
}

/// Authorises, locks member `id`, checks `change` and writes it; returns the member.
async fn manage(
    r: &Resolve<'_>,
    id: NodeRef<Member>,
    change: Change<'_>,
) -> Result<Member, ApiError> {
    let p = authorize::<Member>(r, Op::Write).await?;
    let caller = r.grants().await?;
    let mut tx = r.session.tx().await?;
    let target = members::lock(&mut tx, id.row())
        .await?
        .ok_or_else(|| write_error(frontdesk_db::graph::WriteError::NotFound, MEMBER))?;
    let role = guard(&caller, p.user_id, id.row(), &target, change)?;
    let fields = match change {
        Change::Role(new) => MembershipFields {
            role: Patch::Set(new.as_db()),
            ..Default::default()
        },
        Change::Permissions(list) => MembershipFields {
            permissions: Patch::Set(stored(list)),
            ..Default::default()
        },
        Change::Deactivate => {
            if role == Role::Owner
                && target.is_active
                && members::lock_active_owners(&mut tx).await? <= 1
            {
                return Err(ApiError::Conflict(
                    "the last active owner cannot be deactivated".into(),
                ));
            }
            MembershipFields {
                is_active: Patch::Set(false),
                ..Default::default()
            }
        }
        Change::Reactivate => MembershipFields {
            is_active: Patch::Set(true),
            ..Default::default()
        },
    };
    members::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| write_error(e, MEMBER))?;
    read_back(&mut tx, id.row()).await
}

/// The arguments of `inviteMember`, checked.
struct Invite {
    email: String,
    name: Option<String>,
    department: Option<String>,
    role: Role,
    permissions: Vec<Permission>,
}

async fn invite(r: &Resolve<'_>, args: Invite) -> Result<InviteMemberPayload, ApiError> {
    authorize::<Member>(r, Op::Write).await?;
    let caller = r.grants().await?;
    may_give_role(&caller, args.role)?;
    may_grant(&caller, &args.permissions)?;
    let (token, token_hash) = new_token();
    let mut tx = r.session.tx().await?;
    let outcome = invitations::invite(
        &mut tx,
        &NewInvitation {
            email: &args.email,
            name: args.name.as_deref(),
            role: args.role.as_db(),
            department: args.department.as_deref(),
            permissions: stored(&args.permissions),
            token_hash: &token_hash,
            valid_for_days: INVITATION_DAYS,
        },
    )
    .await
    .map_err(db_error)?;
    match outcome {
        InviteOutcome::AlreadyMember => Err(ApiError::ConflictAt {
            field: "email".into(),
            message: "this person is already a member of the tenant".into(),
        }),
        InviteOutcome::Invited {
            user_id,
            expires_at,
        } => Ok(InviteMemberPayload {
            member: read_back(&mut tx, user_id).await?,
            invitation_token: token,
            expires_at,
        }),
    }
}

/// Team management.
#[derive(Debug, Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Invites a person by e-mail address: creates their account (without a password) when
    /// the address is new, or adds a membership to the existing account (the address matched
    /// ignoring case). The membership stays inactive until the invitee calls
    /// `acceptInvitation` with the returned token, which works once, for 7 days. Inviting
    /// someone whose invitation is still pending replaces it (the old token stops working);
    /// inviting a member is a `CONFLICT` on `email`. Only an owner invites owners and admins;
    /// `permissions` (empty or absent: the role's defaults) may only name permissions the
    /// caller holds. Supervisors and above with `manage:agents`.
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        email: String,
        role: Role,
        name: Option<String>,
        department: Option<String>,
        permissions: Option<Vec<Permission>>,
    ) -> async_graphql::Result<InviteMemberPayload> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            let args = Invite {
                email: validate::email("email", &email)?,
                name: validate::optional_text("name", name, NAME_MAX)?,
                department: validate::optional_text("department", department, SHORT_TEXT_MAX)?,
                role,
                permissions: permissions.unwrap_or_default(),
            };
            invite(&r, args).await
        })
        .await
    }

    /// Changes a member's role. Only an owner makes someone owner or admin, or changes an
    /// admin's role; an owner's role is not changed (`CONFLICT`). Supervisors and above with
    /// `manage:agents`.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Member>,
        role: Role,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(manage(&r, id, Change::Role(role))).await
    }

    /// Replaces a member's permission list (`[]`: back to the role's defaults; owners and
    /// admins hold every permission whatever the list says). Only permissions the caller
    /// holds may be granted. Supervisors and above with `manage:agents`.
    async fn set_member_permissions(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Member>,
        permissions: Vec<Permission>,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(manage(&r, id, Change::Permissions(&permissions)))
            .await
    }

    /// Deactivates a member: they can no longer sign in to the tenant. Not yourself
    /// (`FORBIDDEN`), not the last active owner (`CONFLICT`). Supervisors and above with
    /// `manage:agents`.
    async fn deactivate_member(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Member>,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(manage(&r, id, Change::Deactivate)).await
    }

    /// Reactivates a deactivated member. Supervisors and above with `manage:agents`.
    async fn reactivate_member(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Member>,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(manage(&r, id, Change::Reactivate)).await
    }
}
