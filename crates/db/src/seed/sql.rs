//! SQL building blocks shared by the seed statements.
//!
//! Every seed statement is an `INSERT … SELECT … FROM generate_series(…)` that receives the
//! same bound parameters (see [`PARAMS`]), so a row is a pure function of (tenant, row index):
//! ids encode (tenant index, table, row index) (see [`id`]), a child finds its parent's id by
//! integer arithmetic on its own index (booking `b` belongs to customer `(b - 1) / $3 + 1`, …),
//! picks from fixed vocabularies use arithmetic hashes instead of `random()`, and times are
//! offsets from a fixed epoch instead of `now()`. The fragments below are the derivations more
//! than one statement needs (a call repeats its customer's name and phone without a join).

use super::people::customer_join;

/// The parameters bound to every seed statement, in order (documentation for the SQL below).
#[allow(dead_code)]
pub(super) const PARAMS: &str = "\
    $1 tenant id, $2 customers, $3 bookings per customer, $4 calls per booking, \
    $5 sms per call (all bigint), $6 main nationality (0 Czech, 1 English, 2 Spanish), \
    $7 service names, $8 service prices, $9 service minutes, $10 currency, $11 time zone, \
    $12 business name, $13 staff mail domain, $14 password PHC string, $15 tenant index, \
    $16 city, $17 country, $18 language, $19 HIPAA flag, $20 latitude, $21 longitude; \
    statements run in chunks also get $22 and $23, the first and last top-level index";

/// Start of the seeded timeline: customers arrive during the following half year.
pub(super) const EPOCH: &str = "timestamptz '2025-01-01 00:00:00+00'";
/// The seeded data's "now": appointments after it are still upcoming.
pub(super) const NOW: &str = "timestamptz '2026-01-01 00:00:00+00'";
/// Half a year in seconds: customers arrive over it and each spreads its bookings over it.
pub(super) const SPAN: i64 = 15_552_000;

/// Tables with seeded ids, in the order of their id codes (never reorder: ids would change).
const ID_TABLES: &[&str] = &[
    "users",
    "memberships",
    "customers",
    "assistants",
    "bookings",
    "calls",
    "sms",
    "conversations",
    "messages",
    "conversation_notes",
    "conversation_threads",
    "conversation_reads",
    "leads",
    "demo_requests",
    "demo_request_notes",
    "tickets",
    "ticket_notes",
    "ticket_links",
    "system_prompts",
    "faqs",
    "integrations",
    "tenant_settings",
    "audit_log",
    "invitations",
];

/// The deterministic id of row `idx` of `table` in the statement's tenant: an RFC 9562
/// version-8 UUID `TTTTTTTT-CCCC-8000-8RRR-RRRRRRRRRRRR` of tenant index `T`, table code `C` and
/// row index `R`. Unlike hashed ids these are ascending in the row index, so every index keyed
/// by an id (primary keys, the foreign-key lookups, `(tenant_id, customer_id, …)`) is appended
/// to instead of written at random places, which makes large seeds several times faster.
pub(super) fn id(table: &str, idx: &str) -> String {
    let code = ID_TABLES
        .iter()
        .position(|t| *t == table)
        .map_or(0xffff, |i| i + 1);
    format!("(lpad(to_hex($15), 8, '0') || '{code:04x}80008' || lpad(to_hex(({idx})::bigint), 15, '0'))::uuid")
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
                                  (({b}) * 37) % 100 AS h) p OFFSET 0) q
               OFFSET 0
             ) r
             OFFSET 0
           ) s
           OFFSET 0
         ) {alias}"
    )
}

/// The customer graph generated top-down for customers `$22..=$23`: customer `cu`, then (when `depth` ≥ 2) each of its
/// bookings `bk`, (≥ 3) each booking's calls `ck` with their facts `cl`, and (≥ 4) each call's
/// SMS `sk` (`s`, and `j` its position among the call's messages). Every level is computed
/// once per parent row, and rows come out in ascending index order, so no join, sort or
/// repeated derivation is needed. (`+ 0 * parent` makes each series lateral to its parent,
/// which pins the nesting order.)
pub(super) fn graph(depth: usize) -> String {
    let mut from = format!("generate_series($22, $23) g\n{}", customer_join("g", "cu"));
    if depth >= 2 {
        from.push_str(&format!(
            "\nCROSS JOIN LATERAL generate_series(1, $3 + 0 * cu.c) bj(n)\n{}",
            booking_join("(cu.c - 1) * $3 + bj.n", "bk")
        ));
    }
    if depth >= 3 {
        from.push_str(&format!(
            "\nCROSS JOIN LATERAL generate_series(1, $4 + 0 * bk.b) cj(n)\n{}\n{}",
            call_index_join("(bk.b - 1) * $4 + cj.n", "ck"),
            call_facts_join("ck", "bk", "cl"),
        ));
    }
    if depth >= 4 {
        from.push_str(
            "\nCROSS JOIN LATERAL generate_series(1, $5 + 0 * ck.k) sj(n)
             CROSS JOIN LATERAL (SELECT (ck.k - 1) * $5 + sj.n AS s, sj.n - 1 AS j OFFSET 0) sk",
        );
    }
    from
}

/// A provider's opaque id that sorts like the row index: 20 hex digits of `md5(tenant || salt)`
/// and the index as 12 more. Unique per tenant, and appended to (not scattered over) the unique
/// indexes on provider ids.
pub(super) fn provider_hex(salt: &str, idx: &str) -> String {
    format!("substr(md5($1::text || '{salt}'), 1, 20) || lpad(to_hex(({idx})::bigint), 12, '0')")
}

/// A `CROSS JOIN LATERAL` naming call number `k` as `alias` (`k`, its booking `b`, its
/// position `j` among the booking's calls); join [`booking_join`] on `{alias}.b` after it.
pub(super) fn call_index_join(k: &str, alias: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (SELECT ({k})::bigint AS k, (({k}) - 1) / $4 + 1 AS b,
                                    (({k}) - 1) % $4 AS j OFFSET 0) {alias}"
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
                     FROM (SELECT {h} AS v OFFSET 0) h OFFSET 0) s
               OFFSET 0
             ) t
             OFFSET 0
           ) u
           OFFSET 0
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
    fn every_seeded_table_has_an_id_code() {
        for table in ID_TABLES {
            assert!(!id(table, "1").contains("ffff"), "{table}");
        }
        assert_eq!(
            id("customers", "g"),
            "(lpad(to_hex($15), 8, '0') || '000380008' || lpad(to_hex((g)::bigint), 15, '0'))::uuid"
        );
    }

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
