//! One tenant's seed plan: its id, profile, name, staff (ten people with their roles and
//! e-mail addresses) and the volumes of its tenant-proportional tables.

use uuid::Uuid;

use super::profile::{Profile, PROFILES};
use super::{SeedSpec, DEMO_TENANT_ID};

/// Staff names per language: ten people, rotated per tenant (owner first).
fn staff_names(language: &str) -> [(&'static str, &'static str); 10] {
    match language {
        "cs" => [
            ("Klára", "Dvořáková"),
            ("Tomáš", "Marek"),
            ("Petra", "Svobodová"),
            ("Martin", "Kučera"),
            ("Lucie", "Horáková"),
            ("Jakub", "Veselý"),
            ("Tereza", "Pokorná"),
            ("Ondřej", "Král"),
            ("Barbora", "Fialová"),
            ("Filip", "Beneš"),
        ],
        "es" => [
            ("Lucía", "Moreno"),
            ("Javier", "Ortega"),
            ("Carmen", "Delgado"),
            ("Pablo", "Castillo"),
            ("Elena", "Ramos"),
            ("Sergio", "Vidal"),
            ("Marta", "Iglesias"),
            ("Diego", "Herrera"),
            ("Irene", "Santos"),
            ("Álvaro", "Molina"),
        ],
        _ => [
            ("Emma", "Clarke"),
            ("James", "Turner"),
            ("Sophie", "Bennett"),
            ("Oliver", "Hughes"),
            ("Grace", "Morgan"),
            ("Harry", "Cooper"),
            ("Chloe", "Ward"),
            ("Jack", "Price"),
            ("Lucy", "Foster"),
            ("Thomas", "Reed"),
        ],
    }
}

/// The membership role of staff member `k` (1-based).
pub(super) const STAFF_ROLES: [&str; 10] = [
    "owner",
    "admin",
    "admin",
    "supervisor",
    "supervisor",
    "agent",
    "agent",
    "agent",
    "agent",
    "viewer",
];

/// A seeded staff member.
#[derive(Debug, Clone)]
pub(super) struct Staff {
    pub first: String,
    pub last: String,
    pub email: String,
}

/// Everything the statements need to know about one tenant.
#[derive(Debug, Clone)]
pub(super) struct TenantPlan {
    pub index: u32,
    pub id: Uuid,
    pub profile: &'static Profile,
    pub name: String,
    pub slug: String,
    /// Staff mail domain (an RFC 2606 `.example` name, unique per tenant).
    pub domain: String,
    pub staff: Vec<Staff>,
    pub spec: SeedSpec,
    pub password_hash: String,
    /// The audited tables whose `created` entries the tenant's transaction writes set-wise
    /// (migration 0030); empty when the audit trigger writes them row by row.
    pub setwise: Vec<String>,
}

/// How many rows of the tenant-proportional tables one tenant gets. The SQL derives the same
/// numbers from `$2` (customers); these drive the chunking.
#[derive(Debug, Clone, Copy)]
pub(super) struct Volumes {
    pub customers: u64,
    pub bookings_each: u64,
    pub calls_each: u64,
    pub sms_each: u64,
    /// One per odd customer: ⌈N/2⌉.
    pub conversations: u64,
    /// On every other conversation: ⌈N/4⌉.
    pub conversation_notes: u64,
    /// ⌈N/5⌉.
    pub leads: u64,
    /// max(2, ⌈N/20⌉).
    pub demo_requests: u64,
    /// max(2, ⌈N/10⌉).
    pub tickets: u64,
    /// A sign-in per staff member plus ⌈N/4⌉.
    pub audit: u64,
}

impl Volumes {
    pub fn of(spec: &SeedSpec) -> Self {
        let n = u64::from(spec.customers_per_tenant);
        Self {
            customers: n,
            bookings_each: u64::from(spec.bookings_per_customer),
            calls_each: u64::from(spec.bookings_per_customer) * u64::from(spec.calls_per_booking),
            sms_each: u64::from(spec.bookings_per_customer)
                * u64::from(spec.calls_per_booking)
                * u64::from(spec.sms_per_call),
            conversations: n.div_ceil(2),
            conversation_notes: n.div_ceil(4),
            leads: n.div_ceil(5),
            demo_requests: n.div_ceil(20).max(2),
            tickets: n.div_ceil(10).max(2),
            audit: 10 + n.div_ceil(4),
        }
    }
}

/// The id of tenant `index`: the demo tenant's id plus the index.
pub(super) fn tenant_id(index: u32) -> Uuid {
    Uuid::from_u128(DEMO_TENANT_ID.as_u128() + u128::from(index))
}

impl TenantPlan {
    pub fn new(index: u32, spec: &SeedSpec, password_hash: &str) -> Self {
        let len = PROFILES.len() as u32;
        let profile = &PROFILES[(index % len) as usize];
        let round = index / len;
        let name = if round == 0 {
            profile.name.to_owned()
        } else {
            format!("{} {}", profile.name, round + 1)
        };
        let slug = if index == 0 {
            "demo".to_owned()
        } else {
            format!("{}-{index}", profile.slug)
        };
        let domain = if index == 0 {
            format!("{}.example", profile.slug)
        } else {
            format!("{}-{index}.example", profile.slug)
        };
        let names = staff_names(profile.language);
        let staff = (0..10)
            .map(|k| {
                let (first, last) = names[(k + 3 * index as usize) % 10];
                Staff {
                    first: first.to_owned(),
                    last: last.to_owned(),
                    email: format!("{}.{}@{domain}", fold(first), fold(last)),
                }
            })
            .collect();
        Self {
            index,
            id: tenant_id(index),
            profile,
            name,
            slug,
            domain,
            staff,
            spec: *spec,
            password_hash: password_hash.to_owned(),
            setwise: Vec::new(),
        }
    }
}

/// Lower-case ASCII for the letters the staff names use.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'č' | 'Č' => 'c',
            'é' | 'ě' | 'É' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ř' => 'r',
            'š' | 'Š' => 's',
            'ú' | 'ů' => 'u',
            'ý' => 'y',
            'ž' => 'z',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_emails_are_ascii_and_distinct() {
        let plan = TenantPlan::new(0, &SeedSpec::demo(), "$argon2id$x");
        let mut emails: Vec<_> = plan.staff.iter().map(|s| s.email.clone()).collect();
        assert!(emails.iter().all(|e| e.is_ascii()), "{emails:?}");
        assert_eq!(emails[0], "klara.dvorakova@salon-bella.example");
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), 10);
        assert_eq!(
            TenantPlan::new(7, &SeedSpec::demo(), "").name,
            "AutoServis Novák 2"
        );
    }
}
