//! SQL building blocks shared by the seed statements.
//!
//! Every seed statement is an `INSERT … SELECT … FROM generate_series(…)` that receives the
//! same bound parameters (see [`PARAMS`]), so a row is a pure function of (tenant, row index):
//! ids are `md5(tenant || ':table:' || index)::uuid`, a child finds its parent's id by integer
//! arithmetic on its own index (booking `b` belongs to customer `(b - 1) / $3 + 1`, …), picks
//! from fixed vocabularies use arithmetic hashes instead of `random()`, and times are offsets
//! from a fixed epoch instead of `now()`. The fragments below are the derivations more than
//! one statement needs (a call repeats its customer's name and phone without a join).

/// The parameters bound to every seed statement, in order (documentation for the SQL below).
#[allow(dead_code)]
pub(super) const PARAMS: &str = "\
    $1 tenant id, $2 customers, $3 bookings per customer, $4 calls per booking, \
    $5 sms per call (all bigint), $6 main nationality (0 Czech, 1 English, 2 Spanish), \
    $7 service names, $8 service prices, $9 service minutes, $10 currency, $11 time zone, \
    $12 business name, $13 staff mail domain, $14 password PHC string, $15 tenant index, \
    $16 city, $17 country, $18 language, $19 HIPAA flag, $20 latitude, $21 longitude";

/// Start of the seeded timeline: customers arrive during the following half year.
pub(super) const EPOCH: &str = "timestamptz '2025-01-01 00:00:00+00'";
/// The seeded data's "now": appointments after it are still upcoming.
pub(super) const NOW: &str = "timestamptz '2026-01-01 00:00:00+00'";
/// Half a year in seconds: customers arrive over it and each spreads its bookings over it.
pub(super) const SPAN: i64 = 15_552_000;

/// The deterministic id of row `idx` of `table` in the statement's tenant.
pub(super) fn id(table: &str, idx: &str) -> String {
    format!("md5($1::text || ':{table}:' || ({idx}))::uuid")
}

/// The id of staff member `k` (1 owner, 2–3 admins, 4–5 supervisors, 6–9 agents, 10 viewer).
pub(super) fn user_id(k: &str) -> String {
    id("users", k)
}

/// One of the six members who handle conversations and tickets (supervisors and agents).
pub(super) fn handler(x: &str) -> String {
    user_id(&format!("4 + ({x}) % 6"))
}

/// A well-mixed integer in 0..32768 derived from `x` (an LCG step; high bits kept).
pub(super) fn mix(x: &str, salt: u32) -> String {
    format!("(((({x}) + {salt}) % 2147483648) * 1103515245 + 12345) % 2147483648 / 65536")
}

/// `x` seconds as an interval.
pub(super) fn secs(x: &str) -> String {
    format!("(({x}) * interval '1 second')")
}

/// A text array literal.
pub(super) fn array(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("ARRAY[{}]::text[]", quoted.join(","))
}

/// Element `idx mod len` of a fixed list.
pub(super) fn pick(items: &[&str], idx: &str) -> String {
    format!("({})[(1 + ({idx}) % {})::int]", array(items), items.len())
}

/// Picks one of three language variants by a `cs`/`en`/`es` expression.
pub(super) fn by_lang(lang: &str, cs: &str, en: &str, es: &str) -> String {
    format!("CASE {lang} WHEN 'cs' THEN {cs} WHEN 'es' THEN {es} ELSE {en} END")
}

/// When customer `c` arrived.
pub(super) fn customer_created(c: &str) -> String {
    format!(
        "({EPOCH} + {})",
        secs(&format!("(({c}) - 1) * {SPAN} / $2"))
    )
}

/// A service's list price in the tenant's currency.
pub(super) fn price(svc: &str) -> String {
    format!("round(($8)[{svc}]::numeric, 2)")
}

// First names: Czech men, Czech women, English men, English women, Spanish men, Spanish women.
const FIRST: &[&str] = &[
    "Jan",
    "Petr",
    "Jiří",
    "Pavel",
    "Martin",
    "Tomáš",
    "Jakub",
    "Lukáš",
    "Michal",
    "David",
    "Josef",
    "Ondřej",
    "Filip",
    "Vojtěch",
    "Adam",
    "Marek",
    "Karel",
    "Zdeněk",
    "Milan",
    "Roman",
    "Jana",
    "Eva",
    "Hana",
    "Anna",
    "Lenka",
    "Kateřina",
    "Lucie",
    "Věra",
    "Petra",
    "Alena",
    "Tereza",
    "Veronika",
    "Markéta",
    "Klára",
    "Barbora",
    "Michaela",
    "Zuzana",
    "Ivana",
    "Monika",
    "Eliška",
    "James",
    "Oliver",
    "William",
    "Jack",
    "Harry",
    "George",
    "Thomas",
    "Daniel",
    "Samuel",
    "Joseph",
    "Benjamin",
    "Lucas",
    "Henry",
    "Alexander",
    "Michael",
    "Ethan",
    "Noah",
    "Leo",
    "Charlie",
    "Jacob",
    "Olivia",
    "Emma",
    "Amelia",
    "Isla",
    "Ava",
    "Sophie",
    "Grace",
    "Lily",
    "Emily",
    "Chloe",
    "Mia",
    "Ella",
    "Charlotte",
    "Hannah",
    "Evie",
    "Jessica",
    "Lucy",
    "Ruby",
    "Sarah",
    "Megan",
    "Antonio",
    "José",
    "Manuel",
    "Francisco",
    "David",
    "Juan",
    "Javier",
    "Daniel",
    "Carlos",
    "Alejandro",
    "Miguel",
    "Rafael",
    "Pablo",
    "Sergio",
    "Fernando",
    "Jorge",
    "Luis",
    "Alberto",
    "Álvaro",
    "Diego",
    "María",
    "Carmen",
    "Ana",
    "Isabel",
    "Laura",
    "Cristina",
    "Marta",
    "Lucía",
    "Elena",
    "Paula",
    "Sara",
    "Raquel",
    "Pilar",
    "Rosa",
    "Beatriz",
    "Silvia",
    "Julia",
    "Irene",
    "Nuria",
    "Andrea",
];

// Surnames in the same six slots (Czech ones in their masculine and feminine forms).
const LAST: &[&str] = &[
    "Novák",
    "Svoboda",
    "Novotný",
    "Dvořák",
    "Černý",
    "Procházka",
    "Kučera",
    "Veselý",
    "Horák",
    "Němec",
    "Marek",
    "Pospíšil",
    "Pokorný",
    "Hájek",
    "Král",
    "Jelínek",
    "Růžička",
    "Beneš",
    "Fiala",
    "Sedláček",
    "Nováková",
    "Svobodová",
    "Novotná",
    "Dvořáková",
    "Černá",
    "Procházková",
    "Kučerová",
    "Veselá",
    "Horáková",
    "Němcová",
    "Marková",
    "Pospíšilová",
    "Pokorná",
    "Hájková",
    "Králová",
    "Jelínková",
    "Růžičková",
    "Benešová",
    "Fialová",
    "Sedláčková",
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Navarro",
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Navarro",
];

/// Folds the accented letters of the name lists to ASCII, for e-mail local parts.
pub(super) fn ascii(x: &str) -> String {
    format!(
        "lower(translate({x}, 'ÁáČčĎďÉéĚěÍíŇňÓóŘřŠšŤťÚúŮůÝýŽžÑñÜü', \
         'AaCcDdEeEeIiNnOoRrSsTtUuUuYyZzNnUu'))"
    )
}

/// A `CROSS JOIN LATERAL` naming customer number `c` as `alias`: `c`, `nat` (0 Czech,
/// 1 English, 2 Spanish; 70 % the tenant's own), `lang`, `first_name`, `last_name`, `name`,
/// `phone` (E.164, unique per tenant: an injective function of `c` within each prefix) and
/// `email` (absent for every fifth customer).
pub(super) fn customer_join(c: &str, alias: &str) -> String {
    let (first, last) = (array(FIRST), array(LAST));
    let email = format!(
        "CASE WHEN p.c % 5 <> 0 THEN {} || '.' || {} || p.c || '@' || {} END",
        ascii("p.first_name"),
        ascii("replace(p.last_name, ' ', '.')"),
        pick(&["example.com", "example.net", "example.org"], "p.c / 5"),
    );
    let h = mix("q0.c", 17);
    format!(
        "CROSS JOIN LATERAL (
           SELECT p.c, p.nat, p.first_name, p.last_name,
                  (ARRAY['cs', 'en', 'es'])[p.nat + 1] AS lang,
                  p.first_name || ' ' || p.last_name AS name,
                  CASE p.nat
                    WHEN 0 THEN '+4206' || lpad(((p.c * 7919 + 1234567) % 100000000)::text, 8, '0')
                    WHEN 1 THEN '+447' || lpad(((p.c * 7919 + 1234567) % 1000000000)::text, 9, '0')
                    ELSE '+346' || lpad(((p.c * 7919 + 1234567) % 100000000)::text, 8, '0')
                  END AS phone,
                  {email} AS email
           FROM (
             SELECT q.c, q.nat,
                    ({first})[(1 + (q.nat * 2 + q.fem) * 20 + q.h % 20)::int] AS first_name,
                    ({last})[(1 + (q.nat * 2 + q.fem) * 20 + (q.h / 20) % 20)::int]
                      || CASE WHEN q.nat = 2 THEN ' ' || ({last})[(81 + (q.h / 400) % 20)::int] ELSE '' END
                      AS last_name
             FROM (
               SELECT q0.c,
                      (($6 + CASE WHEN q0.c % 10 < 7 THEN 0 WHEN q0.c % 10 < 9 THEN 1 ELSE 2 END) % 3)::int AS nat,
                      ((q0.c / 3) % 2)::int AS fem,
                      {h} AS h
               FROM (SELECT ({c})::bigint AS c) q0
             ) q
           ) p
         ) {alias}"
    )
}

/// A `CROSS JOIN LATERAL` naming booking number `b` as `alias`: `b`, its customer `c`, its
/// position `j` among the customer's bookings, service index `svc`, `h` (0..99), `created_at`,
/// the local appointment time `local_ts`, `scheduled_at`, `appointment_date`,
/// `appointment_time` and `status` (past appointments completed or no-show, later ones
/// confirmed/pending/scheduled, 7 % cancelled).
pub(super) fn booking_join(b: &str, alias: &str) -> String {
    let created = format!(
        "{} + {}",
        customer_created("p.c"),
        secs(&format!(
            "(p.j + 1) * ({SPAN} / ($3 + 1)) + (p.b * 7919) % 3600"
        ))
    );
    format!(
        "CROSS JOIN LATERAL (
           SELECT s.*,
                  CASE WHEN s.h < 7 THEN 'cancelled'
                       WHEN s.scheduled_at < {NOW} THEN CASE WHEN s.h < 10 THEN 'no-show' ELSE 'completed' END
                       ELSE (ARRAY['confirmed', 'pending', 'scheduled', 'confirmed'])[(1 + s.b % 4)::int]
                  END AS status
           FROM (
             SELECT r.*, r.local_ts AT TIME ZONE $11 AS scheduled_at,
                    to_char(r.local_ts, 'YYYY-MM-DD') AS appointment_date,
                    to_char(r.local_ts, 'HH24:MI') AS appointment_time
             FROM (
               SELECT q.*, date_trunc('day', q.created_at AT TIME ZONE $11)
                             + make_interval(days => (1 + q.b % 13)::int, hours => (9 + q.b % 9)::int,
                                             mins => ((q.b % 4) * 15)::int) AS local_ts
               FROM (SELECT p.*, {created} AS created_at
                     FROM (SELECT ({b})::bigint AS b, (({b}) - 1) / $3 + 1 AS c, (({b}) - 1) % $3 AS j,
                                  (1 + (({b}) * 7 + ({b}) / 3) % array_length($7, 1))::int AS svc,
                                  (({b}) * 37) % 100 AS h) p) q
             ) r
           ) s
         ) {alias}"
    )
}

/// A `CROSS JOIN LATERAL` naming call number `k` as `alias` (`k`, its booking `b`, its
/// position `j` among the booking's calls); join [`booking_join`] on `{alias}.b` after it.
pub(super) fn call_index_join(k: &str, alias: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (SELECT ({k})::bigint AS k, (({k}) - 1) / $4 + 1 AS b,
                                    (({k}) - 1) % $4 AS j) {alias}"
    )
}

/// A `CROSS JOIN LATERAL` with call `ck`'s facts as `alias`, given its booking `bk`:
/// `status`, `call_type`, `duration` (seconds), `answered`, `started_at`, `ended_at`. The
/// first call of a booking is the inbound call that made it; later ones are reminders and
/// questions between the booking and the appointment.
pub(super) fn call_facts_join(ck: &str, bk: &str, alias: &str) -> String {
    let h = mix(&format!("{ck}.k"), 101);
    format!(
        "CROSS JOIN LATERAL (
           SELECT u.*, u.started_at + {dur} AS ended_at
           FROM (
             SELECT t.*,
                    CASE WHEN {ck}.j = 0 THEN {bk}.created_at - {lead}
                         ELSE {bk}.created_at + (least({bk}.scheduled_at, {NOW}) - {bk}.created_at) * ({ck}.j::float8 / $4)
                    END AS started_at
             FROM (
               SELECT s.status, s.status IN ('completed', 'ended') AS answered,
                      CASE WHEN s.status IN ('completed', 'ended') THEN 45 + ({ck}.k * 7919) % 420 ELSE 0 END AS duration,
                      CASE WHEN {ck}.j = 0 OR {ck}.j % 2 = 0 THEN 'inbound' ELSE 'outbound' END AS call_type
               FROM (SELECT CASE WHEN {ck}.j = 0 THEN 'completed'
                                 ELSE CASE WHEN h.v % 100 < 6 THEN 'no-answer' WHEN h.v % 100 < 9 THEN 'busy'
                                           WHEN h.v % 100 < 11 THEN 'failed' WHEN h.v % 100 < 25 THEN 'ended'
                                           ELSE 'completed' END
                            END AS status
                     FROM (SELECT {h} AS v) h) s
             ) t
           ) u
         ) {alias}",
        dur = secs("u.duration"),
        lead = secs("t.duration + 20 + {bk}.b % 90").replace("{bk}", bk),
    )
}

/// A SQL text expression from a template: `{KEY}` becomes `(expr)` for each `(KEY, expr)` in
/// `vars`, everything else is quoted literally.
pub(super) fn text(template: &str, vars: &[(&str, &str)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let var = rest[open + 1..].find('}').and_then(|close| {
            let key = &rest[open + 1..open + 1 + close];
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, expr)| (close, *expr))
        });
        match var {
            Some((close, expr)) => {
                literal.push_str(&rest[..open]);
                if !literal.is_empty() {
                    parts.push(format!("'{}'", literal.replace('\'', "''")));
                    literal.clear();
                }
                parts.push(format!("({expr})"));
                rest = &rest[open + close + 2..];
            }
            None => {
                literal.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() || parts.is_empty() {
        parts.push(format!("'{}'", literal.replace('\'', "''")));
    }
    parts.join(" || ")
}

/// How a receptionist says a date in `lang`: "5.3." in Czech, "5 Mar" in English, "5/3" in
/// Spanish.
pub(super) fn spoken_date(lang: &str, local_ts: &str) -> String {
    by_lang(
        lang,
        &format!("to_char({local_ts}, 'FMDD.FMMM.')"),
        &format!("to_char({local_ts}, 'FMDD Mon')"),
        &format!("to_char({local_ts}, 'FMDD/FMMM')"),
    )
}

/// An ISO-8601 UTC string of a timestamptz, for timestamps inside JSON documents.
pub(super) fn iso(ts: &str) -> String {
    format!("to_char(({ts}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_quote_literals_and_splice_expressions() {
        assert_eq!(
            text("Hi {F}, it's {B}.", &[("F", "cu.first_name"), ("B", "$12")]),
            "'Hi ' || (cu.first_name) || ', it''s ' || ($12) || '.'"
        );
        assert_eq!(text("{X} stays", &[]), "'{X} stays'");
        assert_eq!(text("", &[]), "''");
    }
}
