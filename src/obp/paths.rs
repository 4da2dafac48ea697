//! OBP account paths: `/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/...`, parsed into
//! what the request asks for. Ids are returned as written; handlers check their form.

/// What an account path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccountOp {
    /// `PUT .../accounts/{ACCOUNT_ID}`: create the account.
    Create,
    /// `GET|POST .../views`: list or create views.
    Views,
    /// v4 `POST .../user-account-access`.
    UserAccountAccess,
    /// v4 `POST .../account-access/grant`.
    Grant,
    /// v4 `POST .../account-access/revoke`.
    Revoke,
    /// v4 `PUT .../account-access`: replace the caller's own views.
    ReplaceOwnViews,
    /// v5.1 `POST .../views/{VIEW_ID}/...`, acting through the caller's view `view`.
    Source {
        /// The caller's source view.
        view: String,
        /// What to do.
        action: SourceAction,
    },
}

/// The v5.1.0 actions taken through a source view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceAction {
    /// `.../user-account-access`
    UserAccountAccess,
    /// `.../account-access/grant`
    Grant,
    /// `.../account-access/revoke`
    Revoke,
}

/// A parsed account path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountPath {
    /// `BANK_ID` as written.
    pub bank: String,
    /// `ACCOUNT_ID` as written.
    pub account: String,
    /// The operation.
    pub op: AccountOp,
}

impl AccountOp {
    /// The methods the path answers, as an `Allow` value.
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Self::Create | Self::ReplaceOwnViews => "PUT",
            Self::Views => "GET, HEAD, POST",
            Self::UserAccountAccess | Self::Grant | Self::Revoke | Self::Source { .. } => "POST",
        }
    }
}

/// Parses an OBP account path. v4.0.0-style access endpoints are served on v4.0.0 and v5.0.0,
/// the `/views/{VIEW_ID}/...` forms on v5.1.0, account and view creation on all three.
pub(crate) fn parse(path: &str) -> Option<AccountPath> {
    let segments: Vec<&str> = path.strip_prefix("/obp/")?.split('/').collect();
    let [version, "banks", bank, "accounts", account, rest @ ..] = segments.as_slice() else {
        return None;
    };
    let v4 = matches!(*version, "v4.0.0" | "v5.0.0");
    let v51 = *version == "v5.1.0";
    let op = match rest {
        [] if v4 || v51 => AccountOp::Create,
        ["views"] if v4 || v51 => AccountOp::Views,
        ["user-account-access"] if v4 => AccountOp::UserAccountAccess,
        ["account-access", "grant"] if v4 => AccountOp::Grant,
        ["account-access", "revoke"] if v4 => AccountOp::Revoke,
        ["account-access"] if v4 => AccountOp::ReplaceOwnViews,
        ["views", view, tail @ ..] if v51 => {
            let action = match tail {
                ["user-account-access"] => SourceAction::UserAccountAccess,
                ["account-access", "grant"] => SourceAction::Grant,
                ["account-access", "revoke"] => SourceAction::Revoke,
                _ => return None,
            };
            AccountOp::Source {
                view: (*view).to_owned(),
                action,
            }
        }
        _ => return None,
    };
    Some(AccountPath {
        bank: (*bank).to_owned(),
        account: (*account).to_owned(),
        op,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(path: &str) -> Option<AccountOp> {
        parse(path).map(|p| p.op)
    }

    #[test]
    fn every_served_path_parses() {
        let base = "/obp/v4.0.0/banks/gh.29.uk/accounts/a1";
        assert_eq!(op(base), Some(AccountOp::Create));
        assert_eq!(op(&format!("{base}/views")), Some(AccountOp::Views));
        assert_eq!(
            op(&format!("{base}/user-account-access")),
            Some(AccountOp::UserAccountAccess)
        );
        assert_eq!(
            op(&format!("{base}/account-access/grant")),
            Some(AccountOp::Grant)
        );
        assert_eq!(
            op(&format!("{base}/account-access/revoke")),
            Some(AccountOp::Revoke)
        );
        assert_eq!(
            op(&format!("{base}/account-access")),
            Some(AccountOp::ReplaceOwnViews)
        );
        let v51 = "/obp/v5.1.0/banks/b/accounts/a/views/owner";
        assert_eq!(
            op(&format!("{v51}/account-access/grant")),
            Some(AccountOp::Source {
                view: "owner".into(),
                action: SourceAction::Grant
            })
        );
        let p = parse(&format!("{v51}/user-account-access")).unwrap();
        assert_eq!((p.bank.as_str(), p.account.as_str()), ("b", "a"));
    }

    #[test]
    fn versions_keep_their_own_forms() {
        assert_eq!(
            op("/obp/v5.1.0/banks/b/accounts/a/account-access/grant"),
            None
        );
        assert_eq!(
            op("/obp/v4.0.0/banks/b/accounts/a/views/owner/account-access/grant"),
            None
        );
        assert_eq!(op("/obp/v3.0.0/banks/b/accounts/a"), None);
        assert_eq!(op("/obp/v4.0.0/banks/b/accounts/a/other"), None);
        assert_eq!(op("/obp/v4.0.0/banks/b/accounts/a/"), None);
    }
}
