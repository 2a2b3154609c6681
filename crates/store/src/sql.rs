//! The SQL kernel shared by every store module: values bound to `$n` placeholders ([`Arg`],
//! [`bind_args!`]) and the placeholder lists of multi-row statements ([`values_sql`]).
//! Domain modules import these from here; nothing here knows a table.

use chrono::{DateTime, NaiveDate, Utc};

/// A value bound to a `$n` placeholder: single-row and multi-row inserts build the same lists.
pub(crate) enum Arg {
    Text(Option<String>),
    Real(Option<f64>),
    Int(i64),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    MaybeInt(Option<i64>),
}

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                $crate::sql::Arg::Text(v) => q.bind(v.clone()),
                $crate::sql::Arg::Real(v) => q.bind(*v),
                $crate::sql::Arg::Int(v) => q.bind(*v),
                $crate::sql::Arg::Time(v) => q.bind(*v),
                $crate::sql::Arg::Date(v) => q.bind(*v),
                $crate::sql::Arg::MaybeInt(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

/// `($1, $2, …), (…)` for `rows` rows of `columns` values.
pub(crate) fn values_sql(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", r * columns + c + 1));
        }
        out.push(')');
    }
    out
}
