//! Who the seeded tenants are: six business profiles (a Prague hair salon, a Brno garage, a
//! Madrid dental clinic, a London bistro, an Austin law firm, a Valencia workshop) with their
//! city, language, currency, time zone, services and staff, cycled over the tenant indexes.
//! Tenant 0 is always the demo tenant ([`super::DEMO_TENANT_ID`]).

use uuid::Uuid;

use super::{SeedSpec, DEMO_TENANT_ID};

/// A kind of business a tenant is.
#[derive(Debug)]
pub(super) struct Profile {
    pub name: &'static str,
    pub slug: &'static str,
    pub company: &'static str,
    /// Free text (`tenants.industry`).
    pub industry: &'static str,
    /// `assistants.industry`: medical, legal, sales or general.
    pub assistant_industry: &'static str,
    /// `users.industry_type` / `demo_requests.industry`: medical, legal, sales or other.
    pub user_industry: &'static str,
    pub city: &'static str,
    pub country: &'static str,
    pub timezone: &'static str,
    /// cs, en or es; also the nationality most customers have.
    pub language: &'static str,
    pub currency: &'static str,
    pub phone: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    /// (name, price in `currency`, minutes).
    pub services: &'static [(&'static str, f64, i32)],
}

impl Profile {
    /// 0 Czech, 1 English, 2 Spanish: the index the name lists in `sql.rs` use.
    pub fn nationality(&self) -> i32 {
        match self.language {
            "cs" => 0,
            "es" => 2,
            _ => 1,
        }
    }
}

pub(super) const PROFILES: &[Profile] = &[
    Profile {
        name: "Salon Bella",
        slug: "salon-bella",
        company: "Salon Bella s.r.o.",
        industry: "kadeřnictví a kosmetika",
        assistant_industry: "general",
        user_industry: "other",
        city: "Praha",
        country: "Czech Republic",
        timezone: "Europe/Prague",
        language: "cs",
        currency: "CZK",
        phone: "+420224815630",
        latitude: 50.0755,
        longitude: 14.4378,
        services: &[
            ("Women's haircut", 650.0, 60),
            ("Men's haircut", 390.0, 30),
            ("Hair colouring", 1450.0, 120),
            ("Blow-dry and styling", 450.0, 45),
            ("Manicure", 550.0, 60),
            ("Pedicure", 690.0, 60),
        ],
    },
    Profile {
        name: "AutoServis Novák",
        slug: "autoservis-novak",
        company: "AutoServis Novák s.r.o.",
        industry: "autoservis",
        assistant_industry: "general",
        user_industry: "other",
        city: "Brno",
        country: "Czech Republic",
        timezone: "Europe/Prague",
        language: "cs",
        currency: "CZK",
        phone: "+420541213447",
        latitude: 49.1951,
        longitude: 16.6068,
        services: &[
            ("Oil change", 1290.0, 45),
            ("Tyre change", 890.0, 40),
            ("Annual service", 3490.0, 120),
            ("Brake pad replacement", 2790.0, 90),
            ("Air-conditioning refill", 1590.0, 60),
            ("MOT pre-check", 990.0, 45),
        ],
    },
    Profile {
        name: "Clínica Dental Sonrisa",
        slug: "clinica-sonrisa",
        company: "Clínica Dental Sonrisa S.L.",
        industry: "dental clinic",
        assistant_industry: "medical",
        user_industry: "medical",
        city: "Madrid",
        country: "Spain",
        timezone: "Europe/Madrid",
        language: "es",
        currency: "EUR",
        phone: "+34915230418",
        latitude: 40.4168,
        longitude: -3.7038,
        services: &[
            ("Dental check-up", 45.0, 30),
            ("Teeth cleaning", 60.0, 45),
            ("Filling", 90.0, 60),
            ("Teeth whitening", 250.0, 90),
            ("Orthodontic consultation", 40.0, 30),
            ("Root canal treatment", 320.0, 90),
        ],
    },
    Profile {
        name: "The Riverside Bistro",
        slug: "riverside-bistro",
        company: "Riverside Bistro Ltd",
        industry: "restaurant",
        assistant_industry: "general",
        user_industry: "other",
        city: "London",
        country: "United Kingdom",
        timezone: "Europe/London",
        language: "en",
        currency: "GBP",
        phone: "+442079460321",
        latitude: 51.5072,
        longitude: -0.1276,
        services: &[
            ("Table for 2", 10.0, 90),
            ("Table for 4", 20.0, 120),
            ("Table for 6", 30.0, 120),
            ("Chef's tasting menu for 2", 150.0, 150),
            ("Sunday roast for 4", 100.0, 120),
            ("Private dining room", 250.0, 180),
        ],
    },
    Profile {
        name: "Harper & Cole Law",
        slug: "harper-cole-law",
        company: "Harper & Cole LLP",
        industry: "law firm",
        assistant_industry: "legal",
        user_industry: "legal",
        city: "Austin",
        country: "United States",
        timezone: "America/Chicago",
        language: "en",
        currency: "USD",
        phone: "+15125550147",
        latitude: 30.2672,
        longitude: -97.7431,
        services: &[
            ("Initial consultation", 150.0, 60),
            ("Contract review", 400.0, 90),
            ("Will drafting", 650.0, 90),
            ("Follow-up meeting", 120.0, 30),
            ("Notarisation", 25.0, 15),
            ("Estate planning session", 500.0, 120),
        ],
    },
    Profile {
        name: "Autotaller Ruiz",
        slug: "autotaller-ruiz",
        company: "Autotaller Ruiz S.L.",
        industry: "car workshop",
        assistant_industry: "sales",
        user_industry: "sales",
        city: "Valencia",
        country: "Spain",
        timezone: "Europe/Madrid",
        language: "es",
        currency: "EUR",
        phone: "+34963524170",
        latitude: 39.4699,
        longitude: -0.3763,
        services: &[
            ("Oil change", 69.0, 45),
            ("Vehicle inspection pre-check", 35.0, 45),
            ("Tyre fitting", 40.0, 40),
            ("Brake service", 180.0, 90),
            ("Full service", 220.0, 120),
            ("Battery replacement", 130.0, 30),
        ],
    },
];

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
