//! Who may do what: each entity declares, per operation, the least role and the permission it
//! takes (`access: { read: Viewer, write: Agent + ManageTickets, assign: … }`), and every
//! resolver asks [`authorize`] before it reads or writes anything.
//!
//! Both must hold. The role is a floor (a viewer never writes, whatever it was granted); the
//! permission is the fine-grained switch seed 003 keeps per member. What a member holds:
//!
//! - owners and admins: every permission, always;
//! - others: the membership's own list when it has one, otherwise their role's defaults
//!   ([`Role::default_permissions`]).
//!
//! The role and permissions come from the membership row, read by the statement that opens
//! the request's transaction (so a demotion, a revoked permission or a deactivation takes
//! effect on the next request, not when the token expires), never from the token alone.

use crate::query::Resolve;
use crate::types::enums::{DbEnum, Permission};
use crate::{ApiError, Principal, Role};

use super::Entity;

/// What one operation takes: at least `role`, and `permission` when one is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The least role.
    pub role: Role,
    /// The permission, if the operation needs one.
    pub permission: Option<Permission>,
}

/// The rules of an entity's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Reading it.
    pub read: Rule,
    /// Creating and changing it.
    pub write: Rule,
    /// Deleting it.
    pub delete: Rule,
    /// Operations of its own (`assign`, `escalate`, `merge`, …), by name.
    pub named: &'static [(&'static str, Rule)],
}

impl Access {
    /// The rule of `op`; an operation the declaration does not name falls back to `write`.
    pub fn rule(&self, op: Op) -> Rule {
        match op {
            Op::Read => self.read,
            Op::Write => self.write,
            Op::Delete => self.delete,
            Op::Named(name) => self
                .named
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(self.write, |(_, r)| *r),
        }
    }
}

/// An operation an [`Access`] rule governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Reading.
    Read,
    /// Creating or changing.
    Write,
    /// Deleting.
    Delete,
    /// An operation the entity declares by name (`assign`).
    Named(&'static str),
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "change",
            Op::Delete => "delete",
            Op::Named(n) => n,
        }
    }
}

const ALL: [Permission; 8] = [
    Permission::ReadConversations,
    Permission::WriteMessages,
    Permission::AssignConversations,
    Permission::ManageCustomers,
    Permission::ManageTickets,
    Permission::ViewAnalytics,
    Permission::ManageAgents,
    Permission::SystemAdmin,
];

impl Role {
    /// The permissions a member of this role holds when the membership lists none.
    ///
    /// | role       | defaults |
    /// |------------|----------|
    /// | owner      | all (always) |
    /// | admin      | all (always) |
    /// | supervisor | read:conversations, write:messages, assign:conversations, manage:customers, manage:tickets, view:analytics |
    /// | agent      | read:conversations, write:messages, manage:customers, manage:tickets |
    /// | viewer     | read:conversations, view:analytics |
    pub fn default_permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => &ALL,
            Role::Supervisor => &[
                ReadConversations,
                WriteMessages,
                AssignConversations,
                ManageCustomers,
                ManageTickets,
                ViewAnalytics,
            ],
            Role::Agent => &[
                ReadConversations,
                WriteMessages,
                ManageCustomers,
                ManageTickets,
            ],
            Role::Viewer => &[ReadConversations, ViewAnalytics],
        }
    }
}

/// What a member holds in the tenant: their role and effective permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    /// The membership's role.
    pub role: Role,
    /// The effective permissions (see the module docs).
    pub permissions: Vec<Permission>,
}

impl Grants {
    /// The grants of a member with `role` whose membership lists `stored` (database
    /// spellings; unknown ones are ignored, the CHECK keeps them out anyway).
    pub fn new(role: Role, stored: &[String]) -> Self {
        let permissions = if matches!(role, Role::Owner | Role::Admin) || stored.is_empty() {
            role.default_permissions().to_vec()
        } else {
            ALL.into_iter()
                .filter(|p| stored.iter().any(|s| s == p.as_db()))
                .collect()
        };
        Self { role, permissions }
    }

    /// Whether these grants satisfy `rule`.
    pub fn allows(&self, rule: Rule) -> bool {
        self.role.includes(rule.role)
            && rule
                .permission
                .is_none_or(|p| self.permissions.contains(&p))
    }
}

/// The caller, if they may perform `op` on `T`; otherwise `FORBIDDEN` naming the role or the
/// permission that is missing. Nothing has been written when this refuses.
pub(crate) async fn authorize<T: Entity>(r: &Resolve<'_>, op: Op) -> Result<Principal, ApiError> {
    let p = r.principal()?;
    let grants = r.grants().await?;
    check(&grants, T::ACCESS.rule(op), op, T::NAME)?;
    Ok(p)
}

/// `FORBIDDEN` unless `grants` satisfy `rule`.
pub(crate) fn check(grants: &Grants, rule: Rule, op: Op, what: &str) -> Result<(), ApiError> {
    if !grants.role.includes(rule.role) {
        // Naming the permission too, so the caller learns everything it takes at once.
        let permission = rule
            .permission
            .map(|p| format!(" with the {} permission", p.as_db()))
            .unwrap_or_default();
        return Err(ApiError::Forbidden(format!(
            "a {} may not {} {what}s; it takes the {} role or higher{permission}",
            grants.role,
            op.verb(),
            rule.role
        )));
    }
    if let Some(p) = rule.permission {
        if !grants.permissions.contains(&p) {
            return Err(ApiError::Forbidden(format!(
                "to {} {what}s you need the {} permission",
                op.verb(),
                p.as_db()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_admins_hold_every_permission_whatever_is_stored() {
        let stored = vec!["read:conversations".to_owned()];
        assert_eq!(Grants::new(Role::Admin, &stored).permissions, ALL.to_vec());
        assert_eq!(Grants::new(Role::Owner, &[]).permissions, ALL.to_vec());
    }

    #[test]
    fn a_stored_list_replaces_the_role_defaults() {
        let stored = vec![
            "read:conversations".to_owned(),
            "assign:conversations".to_owned(),
        ];
        let g = Grants::new(Role::Agent, &stored);
        assert_eq!(
            g.permissions,
            vec![
                Permission::ReadConversations,
                Permission::AssignConversations
            ]
        );
        assert!(!g.allows(Rule {
            role: Role::Agent,
            permission: Some(Permission::WriteMessages)
        }));
    }

    #[test]
    fn the_role_floor_holds_even_with_the_permission() {
        let g = Grants::new(Role::Viewer, &["manage:tickets".to_owned()]);
        assert!(!g.allows(Rule {
            role: Role::Agent,
            permission: Some(Permission::ManageTickets)
        }));
    }
}
