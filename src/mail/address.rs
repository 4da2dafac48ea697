//! Email addresses: the one form they are stored, looked up and compared in.

/// Trims whitespace and stray quotes, lowercases, and checks the shape of an email address:
/// the one form addresses are stored, looked up and compared in (`accounts.admin_emails` too).
pub(crate) fn normalize_email(raw: &str) -> Option<String> {
    let email = raw
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim()
        .to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    let domain_ok = !domain.is_empty()
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    (email.len() <= 254 && domain_ok && local_ok).then_some(email)
}
