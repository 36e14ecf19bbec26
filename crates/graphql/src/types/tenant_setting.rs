//! `TenantSetting`: one key/value row of the tenant's configuration (seed 003
//! `SystemSettings`): a `JSON` value, a category, a description, whether the tenant may edit
//! it, and the member who last changed it. Written by `setTenantSetting` /
//! `deleteTenantSetting` (`mutation/tenant_setting.rs`); a row with `isEditable: false` was put
//! there by the platform and is refused with `FORBIDDEN`.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};
use uuid::Uuid;

use super::enums::{SettingCategory, SettingCategoryFilter};
use super::Member;
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, StringFilter};

entity! {
    /// A setting of the tenant.
    TenantSetting in table!(tenant_settings) => {
        /// The key: lower-case letters, digits, `_` and `.`, starting with a letter
        /// (`business_hours`, `sla.vip.hours`); unique in the tenant.
        key: String,
        /// The value (any JSON).
        value: serde_json::Value,
        /// What it does.
        description: Option<String>,
        /// What it is about.
        category: SettingCategory,
        /// Whether the tenant may change or delete it.
        is_editable: bool,
        /// The member who last changed it.
        updated_by_id: Option<Uuid> = col!(updated_by),
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter TenantSettingFilter {
        id: IdFilter [TenantSetting],
        key: StringFilter,
        category: SettingCategoryFilter,
        is_editable: BooleanFilter,
        updated_by: IdFilter [Member],
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the key or description (case-insensitive).
    search: contains_any(&[col!(key), col!(description)]);
    order TenantSettingOrder, TenantSettingOrderField {
        /// Key.
        Key => sort!(key: text),
        /// Category.
        Category => sort!(category: text),
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
    }
    default_order: [Key asc];
    relations {
        /// The member who last changed it.
        updated_by: one Member via updated_by_id,
    }
    root: TenantSettingQuery { tenant_setting, tenant_settings };
    // There is no settings permission: changing the tenant's configuration is an admin's, as
    // is its profile (`updateTenant`).
    access: { read: Viewer, write: Admin, delete: Admin };
    constraints {
        "tenant_settings_key_check" => "key":
            Bad("must be lower-case letters, digits, _ and ., starting with a letter"),
    }
    fields {}
}
