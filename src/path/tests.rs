use super::*;

#[track_caller]
fn canon(path: &str) -> String {
    canonical(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_owned()
}

#[test]
fn unreserved_escapes_are_decoded_and_the_rest_uppercased() {
    for (raw, want) in [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/%70rivate/secret", "/private/secret"),
        ("/b%61nk/banks", "/bank/banks"),
        ("/%41%5a%61%7A%30%39%2D%2e%5F%7e", "/AZaz09-._~"),
        ("/a%3fb", "/a%3Fb"),
        ("/a%20b", "/a%20b"),
        ("/a%e2%82%acb", "/a%E2%82%ACb"),
        ("/caf\u{e9}", "/caf%C3%A9"),
        ("/a\"b{c}|^[d]", "/a%22b%7Bc%7D%7C%5E%5Bd%5D"),
        ("/a/..b/b.c/%2Ex", "/a/..b/b.c/.x"),
        ("/a;b=c/d", "/a;b=c/d"),
        ("/100%25", "/100%25"),
        ("/obp/v5.1.0/users/current", "/obp/v5.1.0/users/current"),
    ] {
        assert_eq!(canon(raw), want, "{raw}");
    }
    assert!(matches!(canonical("/a/b"), Ok(Cow::Borrowed(_))));
}

#[test]
fn paths_a_backend_could_read_differently_are_refused() {
    for bad in [
        // shape
        "",
        "a",
        "//a",
        "/a//b",
        "/a\\b",
        "/a%",
        "/a%4",
        "/a%zz",
        "/a%u002e",
        // encoded separators, path parameters and controls
        "/a%2fb",
        "/a%2Fb",
        "/a%5cb",
        "/a%3bx",
        "/a/..%3b/b",
        "/a%00",
        "/a%0d%0a",
        "/a%09",
        "/a%7f",
        // double encoding, also built from decoded unreserved characters
        "/a%252e%252e/b",
        "/a%252F",
        "/a%25%32%66",
        "/%2570rivate",
        // not UTF-8 once decoded
        "/%c0%ae%c0%ae/x",
        "/%e0%80%ae",
        "/%ed%a0%80",
        "/%80",
        "/%ff",
        "/a%c3",
        // dot segments, with or without path parameters, encoded or not
        "/a/../b",
        "/a/./b",
        "/..",
        "/.",
        "/a/%2e%2E/b",
        "/a/%2E/b",
        "/a/.%2e/b",
        "/open/..;/x",
        "/open/.;/x",
        "/open/..;jsessionid=x/x",
        "/open/%2e%2e;/x",
        "/open/.%2e;/x",
        "/open/%2e;x/x",
        "/open/..;",
        "/a/.../b",
        "/a/..%20/b",
        "/a/%20../b",
        // segments a servlet container reads as empty
        "/a/;x/b",
        "/a/;",
        // characters whose compatibility form is a separator or a dot
        "/a/%ef%bc%8e%ef%bc%8e/b",
        "/a%ef%bc%8fb",
        "/a%ef%bc%bcb",
        "/a/%e2%80%a5/b",
        "/a%ef%b9%94b",
        "/a%ef%bc%85%32%66",
    ] {
        assert!(matches!(canonical(bad), Err(Error::BadPath)), "{bad}");
    }
}

#[test]
fn readings_decode_fold_and_drop_path_parameters() {
    let [folded, lenient_folded, decoded, lenient] = readings("/A%20B;v=1/%C4%B1d./K\u{212a}");
    assert_eq!(decoded, "/A B;v=1/\u{131}d./K\u{212a}");
    assert_eq!(lenient, "/A B/\u{131}d/K\u{212a}");
    assert_eq!(folded, "/a b;v=1/id./kk");
    assert_eq!(lenient_folded, "/a b/id/kk");
    let [folded, ..] = readings("/%EF%BC%B0rivate/\u{17f}ecret");
    assert_eq!(folded, "/private/secret");
}

/// The shortcut `Claims::check` takes for a path that reads as itself must never skip a
/// reading that differs: every path over a small alphabet, up to five characters after the
/// slash, either reads as itself every way or is not taken for one that does.
#[test]
fn a_path_taken_to_read_as_itself_does_so_every_way() {
    let alphabet = ['a', 'A', '.', ';', ' ', '/', '%', '2', '0', 'k', '\u{212a}'];
    let mut paths = vec!["/".to_owned()];
    let mut frontier = paths.clone();
    for _ in 0..5 {
        frontier = frontier
            .iter()
            .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
            .collect();
        paths.extend(frontier.iter().cloned());
    }
    let mut shortcut = 0;
    for path in &paths {
        if reads_as_itself(path) {
            shortcut += 1;
            assert_eq!(
                readings(path),
                std::array::from_fn(|_| path.clone()),
                "{path:?}"
            );
        }
    }
    // Both ways are exercised.
    assert!(shortcut > 1000 && shortcut < paths.len() / 2, "{shortcut}");
}

const NAMESPACES: [&str; 3] = ["/health", "/obp/", "/users"];

fn claims(prefixes: &[&str]) -> Claims {
    Claims::new(prefixes.iter().copied(), &NAMESPACES)
}

#[test]
fn a_path_that_another_reading_routes_elsewhere_is_refused() {
    let c = claims(&["/", "/private/", "/svc"]);
    for bad in [
        "/PRIVATE/x",
        "/Private/x",
        "/pr%C4%B1vate/x",
        "/%EF%BD%90rivate/x",
        "/private;x/secret",
        "/private./secret",
        "/private%20/secret",
        "/private%C2%A0/secret",
        "/OBP/v5.1.0/users/current",
        "/Obp/x",
        "/obp;x/v5.1.0/users/current",
        "/HEALTH",
        "/Users/1",
        "/users;x",
        "/SVCx",
    ] {
        let path = canon(bad);
        assert!(matches!(c.check(&path), Err(Error::BadPath)), "{bad}");
    }
    for ok in [
        "/private/x",
        "/private/X/Y;z",
        "/public/X",
        "/obp/v5.1.0/banks/BANK/accounts/ACC/views",
        "/health",
        "/users/ABC",
        "/usersX",
        "/svc/A",
        "/caf%C3%A9",
        "/a;b",
    ] {
        let path = canon(ok);
        c.check(&path).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // A route whose prefix differs from a namespace only in case claims its own paths, and
    // the namespace's paths are refused (compared ignoring case, the route would claim them).
    let c = claims(&["/", "/OBP/"]);
    c.check("/OBP/x").unwrap();
    assert!(c.check("/obp/x").is_err());
    // Without a catch-all, a case variant of a route is refused, not a 404 for the backend to
    // interpret.
    let c = claims(&["/private/"]);
    assert!(c.check("/PRIVATE/x").is_err());
    // A path that reads as itself is still compared under a reading that changes a prefix: a
    // trailing dot is dropped by the lenient readings, so `/files/x` is the route `/files./` to
    // a Windows backend, and only `/` here. The case readings leave that prefix as it is.
    let c = claims(&["/", "/files./"]);
    assert!(matches!(c.check("/files/x"), Err(Error::BadPath)));
    c.check("/files./x").unwrap();
    c.check("/filesx").unwrap();
}

/// `check_segments` as it was written over `str` (split on `/` and `;`, `trim_matches(' ')`):
/// the byte-wise version must refuse exactly what it refused, over every path of a small
/// alphabet up to six characters after the slash.
#[test]
fn segments_are_judged_as_the_str_version_judged_them() {
    fn by_str(normalised: &str) -> bool {
        let Some(decoded) = decode(normalised) else {
            return false;
        };
        let double = normalised
            .as_bytes()
            .windows(5)
            .any(|w| w.starts_with(b"%25") && hex(w[3]).is_some() && hex(w[4]).is_some());
        let mut segments = decoded.split('/').skip(1).peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            let name = segment.split(';').next().unwrap_or_default();
            let dots_only = !name.is_empty() && name.trim_matches(' ').bytes().all(|b| b == b'.');
            if dots_only || (name.is_empty() && (!last || !segment.is_empty())) {
                return false;
            }
        }
        !double
            && !decoded
                .chars()
                .any(|c| !c.is_ascii() && folds_to_punctuation(c))
    }
    let alphabet = ["a", ".", " ", ";", "/", "%2E", "%25", "%EF%BC%8E", "\u{e9}"];
    let mut frontier = vec!["/".to_owned()];
    let mut checked = 0;
    for _ in 0..6 {
        frontier = frontier
            .iter()
            .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
            .collect();
        for path in &frontier {
            assert_eq!(check_segments(path).is_ok(), by_str(path), "{path:?}");
            checked += 1;
        }
    }
    assert!(checked > 500_000, "{checked}");
    assert_eq!(trim_spaces(b"  . . "), b". .");
    assert_eq!(trim_spaces(b"   "), b"");
}
