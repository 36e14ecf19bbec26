//! People derived from an index: customers, leads and demo requesters are Czech, English or
//! Spanish men and women (70 % of a tenant's own nationality) with gendered Czech surnames,
//! double Spanish surnames, an E.164 mobile number of their country and an `example.*` e-mail
//! address, all computed in SQL from the person's number.

use super::sql::{array, mix, pick};

// First names: Czech men, Czech women, English men, English women, Spanish men, Spanish women.
#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Jan", "Petr", "Jiří", "Pavel", "Martin", "Tomáš", "Jakub", "Lukáš", "Michal", "David", "Josef",
    "Ondřej", "Filip", "Vojtěch", "Adam", "Marek", "Karel", "Zdeněk", "Milan", "Roman", "Jana",
    "Eva", "Hana", "Anna", "Lenka", "Kateřina", "Lucie", "Věra", "Petra", "Alena", "Tereza",
    "Veronika", "Markéta", "Klára", "Barbora", "Michaela", "Zuzana", "Ivana", "Monika", "Eliška",
    "James", "Oliver", "William", "Jack", "Harry", "George", "Thomas", "Daniel", "Samuel", "Joseph",
    "Benjamin", "Lucas", "Henry", "Alexander", "Michael", "Ethan", "Noah", "Leo", "Charlie",
    "Jacob", "Olivia", "Emma", "Amelia", "Isla", "Ava", "Sophie", "Grace", "Lily", "Emily", "Chloe",
    "Mia", "Ella", "Charlotte", "Hannah", "Evie", "Jessica", "Lucy", "Ruby", "Sarah", "Megan",
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos",
    "Alejandro", "Miguel", "Rafael", "Pablo", "Sergio", "Fernando", "Jorge", "Luis", "Alberto",
    "Álvaro", "Diego", "María", "Carmen", "Ana", "Isabel", "Laura", "Cristina", "Marta", "Lucía",
    "Elena", "Paula", "Sara", "Raquel", "Pilar", "Rosa", "Beatriz", "Silvia", "Julia", "Irene",
    "Nuria", "Andrea",
];

// Surnames in the same six slots (Czech ones in their masculine and feminine forms).
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Novák", "Svoboda", "Novotný", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák",
    "Němec", "Marek", "Pospíšil", "Pokorný", "Hájek", "Král", "Jelínek", "Růžička", "Beneš",
    "Fiala", "Sedláček", "Nováková", "Svobodová", "Novotná", "Dvořáková", "Černá", "Procházková",
    "Kučerová", "Veselá", "Horáková", "Němcová", "Marková", "Pospíšilová", "Pokorná", "Hájková",
    "Králová", "Jelínková", "Růžičková", "Benešová", "Fialová", "Sedláčková", "Smith", "Jones",
    "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson", "Roberts",
    "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards",
    "Green", "Hall", "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
    "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
    "Álvarez", "Romero", "Alonso", "Navarro", "García", "Rodríguez", "González", "Fernández",
    "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández",
    "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Navarro",
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
               OFFSET 0
             ) q
             OFFSET 0
           ) p
           OFFSET 0
         ) {alias}"
    )
}
