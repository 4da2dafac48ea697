use std::path::Path;

use crate::config::Config;

const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn parse(block: &str) -> Result<Config, crate::config::ConfigError> {
    let text = format!(
        "[dauth]\nenabled = false\n[[airnode]]\nname = \"a\"\nchains = {{ \"1\" = \"ethereum\" }}\n{block}"
    );
    Config::from_toml(&text, Path::new("test.toml"))
}

fn err_key(block: &str) -> String {
    parse(block).unwrap_err().key
}

#[test]
fn defaults_are_the_issues_and_nobody_is_allowed() {
    let c = parse(&format!("api_key_sha256 = \"{DIGEST}\"")).unwrap();
    let a = &c.airnodes[0];
    assert_eq!(a.key_header, "x-airnode-key");
    assert_eq!(a.headers.requester, "x-airnode-requester");
    assert_eq!(a.headers.sponsor_wallet, "x-airnode-sponsor-wallet");
    assert!(a.allowed_hosts.is_empty());
    assert_eq!(a.chains[&1], "ETHEREUM");
    assert_eq!(
        (a.retry_window_secs, a.max_replay_bytes),
        (7200, 1024 * 1024)
    );
    assert!(a.rpc.is_empty());
    assert_eq!(a.consumer_key(), "airnode:a");
    let warned: Vec<String> = c.warnings().into_iter().map(|(k, _)| k).collect();
    assert_eq!(warned, ["airnode[0].allowed_hosts"]);
}

#[test]
fn each_mistake_names_its_key() {
    let d = format!("api_key_sha256 = \"{DIGEST}\"\n");
    let cases = [
        (String::new(), "airnode[0].api_key_sha256"),
        (
            "api_key_sha256 = \"9f86\"".to_owned(),
            "airnode[0].api_key_sha256",
        ),
        (
            format!("{d}api_key_file = \"k\""),
            "airnode[0].api_key_sha256",
        ),
        (
            format!("{d}key_header = \"X-DAuth-User-Id\""),
            "airnode[0].key_header",
        ),
        (
            format!("{d}requester_header = \"Authorization\""),
            "airnode[0].requester_header",
        ),
        (
            format!("{d}sponsor_header = \"DAuth\""),
            "airnode[0].sponsor_header",
        ),
        (
            format!("{d}sponsor_header = \"X-Airnode-Requester\""),
            "airnode[0].key_header",
        ),
        (
            format!("{d}chain_id_header = \"bad header\""),
            "airnode[0].chain_id_header",
        ),
        (
            format!("{d}allowed_hosts = [\"10.0.0.0/33\"]"),
            "airnode[0].allowed_hosts[0]",
        ),
        (
            format!("{d}sponsors = [\"0x12\"]"),
            "airnode[0].sponsors[0]",
        ),
        (
            format!("{d}airnode_address = \"nobody\""),
            "airnode[0].airnode_address",
        ),
        (
            format!("{d}retry_window_secs = 0"),
            "airnode[0].retry_window_secs",
        ),
        (
            format!("{d}max_replay_bytes = 999999999999"),
            "airnode[0].max_replay_bytes",
        ),
        (
            format!("{d}rpc_urls = {{ \"1\" = \"https://node.example\" }}"),
            "airnode[0].rrp_address.1",
        ),
        (
            format!("{d}rpc_urls = {{ \"5\" = \"https://node.example\" }}"),
            "airnode[0].rpc_urls.5",
        ),
        (
            format!(
                "{d}rpc_urls = {{ \"1\" = \"http://10.0.0.5:8545\" }}\nrrp_address = {{ \"1\" = \"0xa0AD79D995DdeeB18a14eAef56A549A04e3Aa1Bd\" }}"
            ),
            "airnode[0].rpc_urls.1",
        ),
        (
            format!(
                "{d}rpc_urls = {{ \"1\" = \"https://node.example\" }}\nrrp_address = {{ \"1\" = \"0xa0AD79D995DdeeB18a14eAef56A549A04e3Aa1Bd\" }}"
            ),
            "airnode[0].airnode_address",
        ),
        (format!("{d}typo = 1"), "airnode[0]"),
    ];
    for (block, key) in cases {
        let got = err_key(&block);
        assert!(got.starts_with(key), "{block}: {got}");
    }
}

#[test]
fn chains_must_be_decimal_and_named() {
    let text = format!(
        "[dauth]\nenabled = false\n[[airnode]]\nname = \"a\"\napi_key_sha256 = \"{DIGEST}\"\nchains = {{ \"0x1\" = \"ethereum\" }}"
    );
    let e = Config::from_toml(&text, Path::new("t.toml")).unwrap_err();
    assert_eq!(e.key, "airnode[0].chains.0x1");
    let text = format!(
        "[dauth]\nenabled = false\n[[airnode]]\nname = \"a\"\napi_key_sha256 = \"{DIGEST}\""
    );
    let e = Config::from_toml(&text, Path::new("t.toml")).unwrap_err();
    assert_eq!(e.key, "airnode[0].chains");
    let two = format!(
        "[dauth]\nenabled = false\n[[airnode]]\nname = \"a\"\napi_key_sha256 = \"{DIGEST}\"\nchains = {{ \"1\" = \"E\" }}\n\
         [[airnode]]\nname = \"a\"\napi_key_sha256 = \"{DIGEST}\"\nchains = {{ \"1\" = \"E\" }}"
    );
    let e = Config::from_toml(&two, Path::new("t.toml")).unwrap_err();
    assert_eq!(e.key, "airnode[1].name");
    let same_key = two.replacen("name = \"a\"", "name = \"b\"", 1);
    let e = Config::from_toml(&same_key, Path::new("t.toml")).unwrap_err();
    assert_eq!(e.key, "airnode[1].api_key_sha256");
}

#[test]
fn a_key_file_is_digested_once_without_its_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "a-long-enough-airnode-key\n").unwrap();
    let c = parse(&format!("api_key_file = {:?}", path.display().to_string())).unwrap();
    let want = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"a-long-enough-airnode-key");
    assert_eq!(&c.airnodes[0].key_sha256[..], want.as_ref());
    std::fs::write(&path, "short\n").unwrap();
    let e = parse(&format!("api_key_file = {:?}", path.display().to_string())).unwrap_err();
    assert_eq!(e.key, "airnode[0].api_key_file");
}
