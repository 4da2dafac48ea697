//! The Prometheus text format (version 0.0.4) from the OpenMetrics text that
//! `prometheus-client` writes: the same samples, with the differences of the older format.
//!
//! OpenMetrics names a counter family without its `_total` suffix in `# HELP`/`# TYPE`, adds
//! `# UNIT` lines and ends with `# EOF`; the Prometheus format names the family as its samples
//! are named and has neither line (OpenMetrics 1.0, "Overall structure"; Prometheus
//! "Exposition formats", text format details).

/// `openmetrics` in the Prometheus text format.
pub(super) fn prometheus(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        match meta(line) {
            Some((kind, name, rest)) if counters.contains(&name) => {
                out.push_str(&format!("# {kind} {name}_total{rest}"));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// A `# HELP` or `# TYPE` line as (keyword, family name, the rest from the space after it).
fn meta(line: &str) -> Option<(&str, &str, &str)> {
    let rest = line.strip_prefix("# ")?;
    let (kind, rest) = rest.split_once(' ')?;
    if kind != "HELP" && kind != "TYPE" {
        return None;
    }
    let end = rest.find(' ').unwrap_or(rest.len());
    Some((kind, &rest[..end], &rest[end..]))
}

#[cfg(test)]
mod tests {
    use super::prometheus;

    #[test]
    fn counters_are_named_as_their_samples_and_eof_goes() {
        let om = "# HELP dauth_users_created Users created.\n# TYPE dauth_users_created counter\n\
                  dauth_users_created_total 3\n# HELP dauth_g A gauge.\n# TYPE dauth_g gauge\n\
                  dauth_g 1\n# EOF\n";
        assert_eq!(
            prometheus(om),
            "# HELP dauth_users_created_total Users created.\n\
             # TYPE dauth_users_created_total counter\ndauth_users_created_total 3\n\
             # HELP dauth_g A gauge.\n# TYPE dauth_g gauge\ndauth_g 1\n"
        );
    }
}
