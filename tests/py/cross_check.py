"""Cross-checks the wallet fixtures with a second, independent implementation.

For every ERC-8128 vector (tests/fixtures/wallets/erc8128.json, erc1271.json) this script
rebuilds the RFC 9421 signature base from the vector's request and Signature-Input on its own
(plain Python, no JS), recomputes the Content-Digest with hashlib, hashes the signed base with
EIP-191 personal_sign and recovers the signer with eth-account (PyPI); for every SIWE vector it
recovers the signer of the message. It writes tests/fixtures/wallets/crosscheck.json with one row
per vector and exits non-zero if eth-account disagrees with what the JS tools (viem,
@slicekit/erc8128) recorded for a vector: a different hash, a different recovered address, or a
base it rebuilds differently for an unaltered request.

    sh tests/py/cross-check.sh      # makes tests/py/.venv from requirements.txt, runs this
"""

import base64
import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from importlib.metadata import version

ETH_ACCOUNT = version("eth-account")


WALLETS = Path(__file__).resolve().parent.parent / "fixtures" / "wallets"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def sf_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authority(url):
    """RFC 9421 2.2.3: the target URI's authority, host lower-cased, default port dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443):
        return host
    return f"{host}:{port}"


def component(request, name):
    parts = urlsplit(request["url"])
    if name == "@method":
        return request["method"].upper()
    if name == "@authority":
        return authority(request["url"])
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return f"?{parts.query}" if parts.query else ""
    value = {k.lower(): v for k, v in request["headers"].items()}.get(name)
    if value is None:
        raise KeyError(name)
    return value.strip()


def rebuild_base(request, label):
    """The signature base from the received request and the raw Signature-Input member."""
    member = request["headers"]["signature-input"]
    params_value = member[len(label) + 1 :]
    inner = params_value[1 : params_value.index(")")]
    components = re.findall(r'"([^"]*)"', inner)
    lines = [f"{sf_string(c)}: {component(request, c)}" for c in components]
    lines.append(f'{sf_string("@signature-params")}: {params_value}')
    return "\n".join(lines)


def digest_agrees(request):
    header = {k.lower(): v for k, v in request["headers"].items()}.get("content-digest")
    if header is None or request["body"] is None:
        return None
    m = re.fullmatch(r"(sha-256|sha-512)=:([A-Za-z0-9+/=]+):", header)
    if not m:
        return False
    algo = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}[m.group(1)]
    return base64.b64encode(algo(request["body"].encode()).digest()).decode() == m.group(2)


def recover(message_bytes, signature_hex):
    """eth-account's answer: the recovered address, or why it would not recover."""
    sig = bytes.fromhex(signature_hex[2:])
    if len(sig) != 65:
        return None, f"not 65 bytes ({len(sig)})"
    try:
        return Account.recover_message(encode_defunct(primitive=message_bytes), signature=sig), None
    except Exception as e:  # eth-account refuses v outside {0, 1, 27, 28}
        return None, f"{type(e).__name__}: {str(e)[:80]}"


def high_s(signature_hex):
    sig = bytes.fromhex(signature_hex[2:])
    return len(sig) >= 64 and int.from_bytes(sig[32:64], "big") > SECP256K1_N // 2


def check_erc8128(file, data, rows, problems):
    for v in data["vectors"]:
        if "signature" not in v:  # signature_header_missing: nothing to recover
            continue
        if v.get("kind") == "siwe":
            check_contract_siwe(file, v, rows, problems)
            continue
        base = v.get("signed_base") or v.get("signature_base")
        want_hash = v.get("signed_eip191_hash") or v.get("eip191_hash")
        got_hash = "0x" + _hash_eip191_message(encode_defunct(primitive=base.encode())).hex()
        recovered, why = recover(base.encode(), v["signature"])
        label = v["request"]["headers"].get("signature-input", "eth=").split("=", 1)[0]
        try:
            rebuilt = rebuild_base(v["request"], label)
        except KeyError as e:
            rebuilt = f"(missing {e})"
        unaltered = v.get("received_base", base) == base
        row = {
            "file": file,
            "id": v["id"],
            "eip191_hash_agrees": got_hash == want_hash,
            "recovered": recovered,
            "recovers_to_signing_key": recovered == v["signed_by"] if recovered else False,
            "high_s": high_s(v["signature"]),
        }
        if why:
            row["not_recovered"] = why
        if unaltered:
            row["rebuilt_base_agrees"] = rebuilt == base
        digest = digest_agrees(v["request"])
        if digest is not None:
            row["content_digest_matches_body"] = digest
        rows.append(row)
        if got_hash != want_hash:
            problems.append(f"{file} {v['id']}: EIP-191 hash differs")
        if unaltered and rebuilt != base:
            problems.append(f"{file} {v['id']}: rebuilt base differs")
        sig_len = (len(v["signature"]) - 2) // 2
        expect_recover = sig_len == 65 and (v.get("v") in (0, 1, 27, 28) if "v" in v else True)
        if expect_recover and recovered != v["signed_by"]:
            problems.append(f"{file} {v['id']}: eth-account recovered {recovered}, the signing key is {v['signed_by']}")


def check_contract_siwe(file, v, rows, problems):
    recovered, why = recover(v["message"].encode(), v["signature"])
    got_hash = "0x" + _hash_eip191_message(encode_defunct(text=v["message"])).hex()
    row = {"file": file, "id": v["id"], "eip191_hash_agrees": got_hash == v["eip191_hash"], "recovered": recovered}
    if why:
        row["not_recovered"] = why
    rows.append(row)
    if got_hash != v["eip191_hash"]:
        problems.append(f"{file} {v['id']}: EIP-191 hash differs")
    if v["signature_length"] == 65 and recovered != v["signed_by"]:
        problems.append(f"{file} {v['id']}: eth-account recovered {recovered}, the signing key is {v['signed_by']}")


def check_siwe(data, rows, problems):
    for table in ("verification_positive", "verification_negative"):
        for name, v in data[table].items():
            recovered, why = recover(v["message"].encode(), v["signature"])
            got_hash = "0x" + _hash_eip191_message(encode_defunct(text=v["message"])).hex()
            row = {
                "file": "siwe.json",
                "id": f"{table}/{name}",
                "eip191_hash_agrees": got_hash == v["eip191_hash"],
                "recovered": recovered,
                "agrees_with_viem": recovered == v["viem"]["signature_recovers_to"],
                "high_s": high_s(v["signature"]),
            }
            if why:
                row["not_recovered"] = why
            rows.append(row)
            if got_hash != v["eip191_hash"]:
                problems.append(f"siwe {name}: EIP-191 hash differs")
            if recovered != v["viem"]["signature_recovers_to"]:
                problems.append(f"siwe {name}: eth-account recovered {recovered}, viem {v['viem']['signature_recovers_to']}")


def main():
    rows, problems = [], []
    for file in ("erc8128.json", "erc1271.json"):
        check_erc8128(file, json.loads((WALLETS / file).read_text()), rows, problems)
    check_siwe(json.loads((WALLETS / "siwe.json").read_text()), rows, problems)
    out = {
        "generator": f"eth-account {ETH_ACCOUNT} (tests/py/cross_check.py, versions pinned in tests/py/requirements.txt)",
        "about": "Independent re-check of the JS-made vectors: the signature base rebuilt in Python from each unaltered request (rebuilt_base_agrees), Content-Digest recomputed with hashlib, the EIP-191 hash recomputed and the signer recovered with eth-account. recovered is null where eth-account will not recover (v outside {0, 1, 27, 28}, not 65 bytes, an ERC-6492 wrapper). eth-account, like viem, recovers high-s signatures: refusing them is the verifier's rule.",
        "problems": problems,
        "rows": rows,
    }
    (WALLETS / "crosscheck.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"crosscheck.json: {len(rows)} vectors re-checked with eth-account {ETH_ACCOUNT}; {len(problems)} problem(s)")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
