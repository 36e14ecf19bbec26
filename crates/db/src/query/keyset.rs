//! Keyset pagination: ORDER BY, the sort values a cursor carries, and the "strictly after this
//! position" predicate.
//!
//! Cursor values travel as text (`expr::text`) and are cast back with the key's SQL type, so
//! one representation serves timestamps, numbers, text and ids alike and round-trips exactly.

use sqlx::{Postgres, QueryBuilder};

use super::{OrderKey, ID_KEY};

/// The keys in the order of travel: the requested ones plus the id tie-breaker, all flipped
/// when reading backwards.
pub(super) fn effective_order(order: &[OrderKey], backward: bool) -> Vec<OrderKey> {
    order
        .iter()
        .copied()
        .filter(|k| k.expr != ID_KEY.expr)
        .chain(std::iter::once(
            order
                .iter()
                .copied()
                .find(|k| k.expr == ID_KEY.expr)
                .unwrap_or(ID_KEY),
        ))
        .map(|k| OrderKey {
            desc: k.desc != backward,
            ..k
        })
        .collect()
}

pub(super) fn order_by_sql(keys: &[OrderKey]) -> String {
    keys.iter()
        .map(|k| format!("{} {}", k.expr, if k.desc { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn sort_values_sql(keys: &[OrderKey]) -> String {
    let parts: Vec<String> = keys.iter().map(|k| format!("({})::text", k.expr)).collect();
    format!("ARRAY[{}]", parts.join(", "))
}

/// Rows strictly after `values` in the order of `keys`.
///
/// When every key runs the same way this is one row comparison, which PostgreSQL matches to a
/// composite index. Mixed directions expand to `k1 > v1 OR (k1 = v1 AND k2 < v2) OR …`, led by
/// the index-friendly bound `k1 >= v1` so a scan starts at the cursor instead of the top.
pub(super) fn push_after(
    qb: &mut QueryBuilder<'_, Postgres>,
    keys: &[OrderKey],
    values: &[String],
) {
    let same_direction = keys.iter().all(|k| k.desc == keys[0].desc);
    if same_direction {
        qb.push("(");
        push_list(qb, keys.iter().map(|k| k.expr));
        qb.push(if keys[0].desc { ") < (" } else { ") > (" });
        for (i, (k, v)) in keys.iter().zip(values).enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            push_value(qb, k, v);
        }
        qb.push(")");
        return;
    }
    qb.push("(").push(keys[0].expr);
    qb.push(if keys[0].desc { " <= " } else { " >= " });
    push_value(qb, &keys[0], &values[0]);
    qb.push(" AND (");
    for i in 0..keys.len() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push("(");
        for (k, v) in keys.iter().zip(values).take(i) {
            qb.push(k.expr).push(" = ");
            push_value(qb, k, v);
            qb.push(" AND ");
        }
        let k = &keys[i];
        qb.push(k.expr).push(if k.desc { " < " } else { " > " });
        push_value(qb, k, &values[i]);
        qb.push(")");
    }
    qb.push("))");
}

fn push_list<'a>(qb: &mut QueryBuilder<'_, Postgres>, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push(item);
    }
}

fn push_value(qb: &mut QueryBuilder<'_, Postgres>, key: &OrderKey, value: &str) {
    qb.push("CAST(")
        .push_bind(value.to_owned())
        .push(" AS ")
        .push(key.sql_type)
        .push(")");
}
