//! The SQL side of an entity declaration: macros that turn the identifiers an entity declares
//! into the column references, table names and sort keys the read engine renders.
//!
//! The GraphQL crate declares each entity once, by identifiers (its struct fields are its
//! columns); these macros are the only place those identifiers become SQL, so the API crate
//! holds no SQL text. Derived expressions that are more than a column live in
//! [`crate::exprs`].

/// The SQL reference to column `name` of the row alias `t` (`col!(phone)` = `"t.phone"`).
/// `r#type` is the column `type`.
#[macro_export]
macro_rules! col {
    (r#type) => {
        "t.type"
    };
    ($name:ident) => {
        concat!("t.", stringify!($name))
    };
}

/// A [`Column`](crate::query::Column) named like the struct field `name`: the plain column, or
/// `name = EXPR` for one read through an expression of [`crate::exprs`].
#[macro_export]
macro_rules! column {
    (r#type) => {
        $crate::query::Column {
            name: "type",
            sql: "t.type",
        }
    };
    ($name:ident) => {
        $crate::query::Column {
            name: stringify!($name),
            sql: $crate::col!($name),
        }
    };
    ($name:ident = $sql:expr) => {
        $crate::query::Column {
            name: stringify!($name),
            sql: $sql,
        }
    };
}

/// The qualified name of table `name` in the application schema (`table!(leads)` =
/// `"app.leads"`).
#[macro_export]
macro_rules! table {
    ($name:ident) => {
        concat!("app.", stringify!($name))
    };
}

/// An ascending [`OrderKey`](crate::query::OrderKey) on column `name` of SQL type `ty`
/// (`timestamptz`, `text`, `integer`, `numeric`, `smallint`). With `nulls_first`, a nullable
/// column sorts through `coalesce` to a sentinel below every value, which keeps keyset cursors
/// exact: NULLs come first ascending and last descending.
#[macro_export]
macro_rules! sort {
    ($name:ident : timestamptz, nulls_first) => {
        $crate::sort!(@key concat!("coalesce(", $crate::col!($name), ", '-infinity')"), timestamptz)
    };
    ($name:ident : numeric, nulls_first) => {
        $crate::sort!(@key concat!("coalesce(", $crate::col!($name), ", '-Infinity')"), numeric)
    };
    ($name:ident : integer, nulls_first) => {
        $crate::sort!(@key concat!("coalesce(", $crate::col!($name), ", -2147483648)"), integer)
    };
    ($name:ident : smallint, nulls_first) => {
        $crate::sort!(@key concat!("coalesce(", $crate::col!($name), ", -32768)"), smallint)
    };
    ($name:ident : text, nulls_first) => {
        $crate::sort!(@key concat!("coalesce(", $crate::col!($name), ", '')"), text)
    };
    ($name:ident : $ty:ident) => {
        $crate::sort!(@key $crate::col!($name), $ty)
    };
    (@key $expr:expr, $ty:ident) => {
        $crate::query::OrderKey { expr: $expr, sql_type: stringify!($ty), desc: false }
    };
}

#[cfg(test)]
mod tests {
    use crate::query::{Column, OrderKey};

    #[test]
    fn declared_identifiers_become_column_references() {
        assert_eq!(col!(phone), "t.phone");
        assert_eq!(col!(r#type), "t.type");
        assert_eq!(table!(leads), "app.leads");
        assert_eq!(
            column!(r#type),
            Column {
                name: "type",
                sql: "t.type"
            }
        );
        assert_eq!(
            column!(preview = "t.last_message"),
            Column {
                name: "preview",
                sql: "t.last_message"
            }
        );
    }

    #[test]
    fn nullable_sort_keys_sort_through_a_sentinel() {
        const K: OrderKey = sort!(started_at: timestamptz, nulls_first);
        assert_eq!(K.expr, "coalesce(t.started_at, '-infinity')");
        assert_eq!(K.sql_type, "timestamptz");
        assert_eq!(sort!(name: text).expr, "t.name");
    }
}
