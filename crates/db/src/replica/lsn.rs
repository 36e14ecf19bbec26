//! A position in PostgreSQL's write-ahead log (`pg_lsn`), as a number and in PostgreSQL's own
//! text form (`16/B374D848`: the high and low 32 bits in hexadecimal), which is what clients
//! see in `X-Frontdesk-Min-Lsn` and `extensions.minLsn`.

use std::fmt;
use std::str::FromStr;

/// A WAL position. Positions only grow, so "has the standby replayed my commit" is `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

/// The SQL that turns a `pg_lsn` expression into the `int8` an [`Lsn`] is read from
/// (`pg_lsn - pg_lsn` is a byte count; positions stay far below 2^63).
pub(crate) fn as_int8(expr: &str) -> String {
    format!("({expr} - '0/0'::pg_lsn)::int8")
}

impl Lsn {
    /// From the `int8` [`as_int8`] yields (never negative for a real position).
    pub(crate) fn from_i64(v: i64) -> Self {
        Self(u64::try_from(v).unwrap_or(0))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Why a text is not a WAL position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a WAL position such as 0/16B3748 (two hexadecimal numbers separated by '/')")]
pub struct LsnParseError;

impl FromStr for Lsn {
    type Err = LsnParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (hi, lo) = s.trim().split_once('/').ok_or(LsnParseError)?;
        let part = |p: &str| {
            if p.is_empty() || p.len() > 8 {
                return Err(LsnParseError);
            }
            u32::from_str_radix(p, 16).map_err(|_| LsnParseError)
        };
        Ok(Self((u64::from(part(hi)?) << 32) | u64::from(part(lo)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_round_trips_through_postgresql_text_form() {
        let lsn: Lsn = "16/B374D848".parse().expect("parses");
        assert_eq!(lsn, Lsn(0x16_B374_D848));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>(), Ok(Lsn(0)));
    }

    #[test]
    fn text_that_is_not_a_position_is_refused() {
        for bad in ["", "16", "/1", "1/", "G/1", "1/2/3", "123456789/0", "-1/0"] {
            assert_eq!(bad.parse::<Lsn>(), Err(LsnParseError), "{bad:?}");
        }
    }
}
