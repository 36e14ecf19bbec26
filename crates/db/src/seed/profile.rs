//! Who the seeded tenants are: six business profiles (a Prague hair salon, a Brno garage, a
//! Madrid dental clinic, a London bistro, an Austin law firm, a Valencia workshop) with their
//! city, language, currency, time zone and services, cycled over the tenant indexes (see
//! `plan.rs`). Tenant 0, the demo tenant, is the salon.

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
    /// (name as the business lists it, in its language; price in `currency`; minutes).
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
            ("Dámský střih", 650.0, 60),
            ("Pánský střih", 390.0, 30),
            ("Barvení vlasů", 1450.0, 120),
            ("Foukaná a styling", 450.0, 45),
            ("Manikúra", 550.0, 60),
            ("Pedikúra", 690.0, 60),
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
            ("Výměna oleje", 1290.0, 45),
            ("Přezutí pneumatik", 890.0, 40),
            ("Pravidelný servis", 3490.0, 120),
            ("Výměna brzdových destiček", 2790.0, 90),
            ("Plnění klimatizace", 1590.0, 60),
            ("Příprava na STK", 990.0, 45),
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
            ("Revisión dental", 45.0, 30),
            ("Limpieza dental", 60.0, 45),
            ("Empaste", 90.0, 60),
            ("Blanqueamiento dental", 250.0, 90),
            ("Consulta de ortodoncia", 40.0, 30),
            ("Endodoncia", 320.0, 90),
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
            ("Cambio de aceite", 69.0, 45),
            ("Pre-ITV", 35.0, 45),
            ("Montaje de neumáticos", 40.0, 40),
            ("Revisión de frenos", 180.0, 90),
            ("Revisión completa", 220.0, 120),
            ("Cambio de batería", 130.0, 30),
        ],
    },
];
