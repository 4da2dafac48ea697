//! `POST /oidc/token` (client credentials with a `private_key_jwt`, RFC 6749 4.4 + RFC 7523) and
//! `GET /.well-known/openid-configuration`.
//!
//! Errors here use RFC 6749 section 5.2's shape, `{"error", "error_description"}`, not the
//! gateway's, since OAuth clients parse them. A `sub` parameter naming one of the client's users
//! asks for a token acting for that user (the "ongoing access" of seed 000); a deleted user gets
//! none.

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde::Serialize;
use serde_json::json;

use crate::auth::clients::USER_SCOPES;
use crate::auth::issuer::USE_CLIENT;
use crate::auth::jws::RSA_ALGORITHMS;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::oidc::assertion::{self, TokenError};
use crate::state::call::Call;
use crate::store::{Replay, ReplayScope};

/// RFC 7523's client assertion type.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The token endpoint's URL, which assertions must name as `aud`.
pub(crate) fn token_endpoint(issuer_url: &str) -> String {
    format!("{issuer_url}/oidc/token")
}

/// `GET /.well-known/openid-configuration`
pub(crate) fn discovery(call: &Call<'_>) -> Result<Response<Body>, Error> {
    let issuer = call.policy.issuer()?;
    let url = &issuer.config().url;
    let algs: Vec<String> = RSA_ALGORITHMS.iter().map(|a| format!("{a:?}")).collect();
    Ok(crate::http::render::json(
        StatusCode::OK,
        &json!({
            "issuer": url,
            "token_endpoint": token_endpoint(url),
            "jwks_uri": format!("{url}/.well-known/jwks.json"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": algs,
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": USER_SCOPES,
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
        }),
    ))
}

#[derive(Serialize)]
struct ClientClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    client_id: &'a str,
    scope: &'a str,
    token_use: &'a str,
}

/// `POST /oidc/token`
pub(crate) async fn token(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let issuer = call.policy.issuer()?;
    match grant(call, issuer, body).await {
        Ok(resp) => Ok(resp),
        Err(Refused::OAuth(e)) => Ok(oauth_error(e)),
        Err(Refused::Gateway(e)) => Err(e),
    }
}

/// A token request's failure: an OAuth error for the client, or a gateway fault (store, signing).
enum Refused {
    OAuth(TokenError),
    Gateway(Error),
}

impl From<TokenError> for Refused {
    fn from(e: TokenError) -> Self {
        Self::OAuth(e)
    }
}

async fn grant(
    call: &Call<'_>,
    issuer: &crate::auth::issuer::Issuer,
    body: Payload,
) -> Result<Response<Body>, Refused> {
    let form = read_form(&call.head.headers, body)?;
    let param = |name: &str| form.get(name).map(String::as_str);
    match param("grant_type") {
        None => return Err(TokenError::InvalidRequest("grant_type is required").into()),
        Some("client_credentials") => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType.into()),
    }
    let (Some(kind), Some(jwt)) = (param("client_assertion_type"), param("client_assertion"))
    else {
        return Err(TokenError::InvalidClient(
            "client_assertion_type and client_assertion are required (private_key_jwt)",
        )
        .into());
    };
    if kind != JWT_BEARER {
        return Err(TokenError::InvalidClient(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .into());
    }
    let now = call.now;
    let leeway = i64::try_from(call.policy.config.bearer.leeway_secs).unwrap_or(0);
    let url = &issuer.config().url;
    let proven = assertion::verify(&call.policy.clients, jwt, &token_endpoint(url), now, leeway)?;
    let client = proven.client;
    if param("client_id").is_some_and(|id| id != client.client_id) {
        return Err(TokenError::InvalidClient("client_id does not match the assertion").into());
    }
    let scopes: Vec<&str> = match param("scope") {
        Some(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        None => client.scopes.iter().map(String::as_str).collect(),
    };
    if scopes.iter().any(|s| !client.scopes.iter().any(|c| c == s)) {
        return Err(
            TokenError::InvalidScope("a requested scope is not granted to this client").into(),
        );
    }
    let scope = scopes.join(" ");
    let subject = match param("sub") {
        None => client.client_id.clone(),
        Some(user) => acting_for(call, &client.client_id, user).await?,
    };
    let scope_of = ReplayScope::Assertion {
        client_id: &client.client_id,
    };
    let used = call
        .shared
        .store
        .assertions
        .record(scope_of, &proven.jti, proven.exp, now)
        .await
        .map_err(|e| Refused::Gateway(Error::ReplayUnavailable(e)))?;
    if used != Replay::Fresh {
        return Err(TokenError::InvalidGrant("client_assertion jti was already used").into());
    }
    let ttl = issuer.config().access_ttl_secs;
    let claims = ClientClaims {
        iss: url,
        sub: &subject,
        aud: &issuer.config().audience,
        iat: now,
        exp: now.saturating_add_unsigned(ttl),
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: &client.client_id,
        scope: &scope,
        token_use: USE_CLIENT,
    };
    let access = issuer
        .sign(&claims)
        .map_err(|e| Refused::Gateway(e.into()))?;
    let mut resp = crate::http::render::json(
        StatusCode::OK,
        &json!({"access_token": access, "expires_in": ttl, "token_type": "Bearer", "scope": scope}),
    );
    no_store(resp.headers_mut());
    Ok(resp)
}

/// A token for one of the client's users: the user must exist and not be deleted.
async fn acting_for(call: &Call<'_>, client: &str, user: &str) -> Result<String, TokenError> {
    let now = crate::clock::rfc3339(call.now);
    let updated = call
        .shared
        .store
        .clients
        .update_client_user(
            client,
            user,
            Box::new(move |u| {
                if u.deleted_at.is_some() {
                    return Err(crate::store::error::ClientStoreError::NotFound);
                }
                u.last_accessed = Some(now.clone());
                Ok(())
            }),
        )
        .await;
    match updated {
        Ok(u) => Ok(u.user_id),
        Err(_) => Err(TokenError::InvalidGrant(
            "sub is not an active user of this client",
        )),
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn oauth_error(e: TokenError) -> Response<Body> {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = crate::http::render::json(
        status,
        &json!({"error": e.code(), "error_description": e.description()}),
    );
    no_store(resp.headers_mut());
    resp
}

/// The body as form fields: `application/x-www-form-urlencoded`, or `multipart/form-data` (what
/// `curl --form` sends, as in seed 000). A parameter given twice is an error (RFC 6749 3.2).
/// A body too large is an OAuth `invalid_request`; one that stops arriving or cannot be read is
/// the gateway's 408 or 400, as on every endpoint.
fn read_form(headers: &HeaderMap, body: Payload) -> Result<HashMap<String, String>, Refused> {
    let bad = TokenError::InvalidRequest;
    let raw_ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ctype = raw_ctype.to_ascii_lowercase();
    let bytes: Bytes = body.bytes().map_err(|e| match e {
        Error::BodyTooLarge => Refused::OAuth(bad("the body is too large")),
        e => Refused::Gateway(e),
    })?;
    let pairs: Vec<(String, String)> = if ctype.starts_with("application/x-www-form-urlencoded") {
        form_urlencoded::parse(&bytes).into_owned().collect()
    } else if ctype.starts_with("multipart/form-data") {
        let boundary = raw_ctype
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned());
        multipart_fields(
            &bytes,
            &boundary.ok_or(bad("multipart body without a boundary"))?,
        )
        .ok_or(bad("malformed multipart body"))?
    } else {
        return Err(bad("the body must be application/x-www-form-urlencoded").into());
    };
    let mut form = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        if form.insert(k, v).is_some() {
            return Err(bad("a parameter appears more than once").into());
        }
    }
    Ok(form)
}

/// The text fields of a `multipart/form-data` body.
pub(crate) fn multipart_fields(body: &[u8], boundary: &str) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n")?;
        let (head, value) = part.split_once("\r\n\r\n")?;
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))?
            .trim_matches('"');
        fields.push((
            name.to_owned(),
            value.strip_suffix("\r\n").unwrap_or(value).to_owned(),
        ));
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_text_fields_parse() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nuser:create\r\n--XyZ\r\ncontent-disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--XyZ--\r\n";
        let fields = multipart_fields(body.as_bytes(), "XyZ").unwrap();
        assert_eq!(
            fields,
            vec![
                ("scope".into(), "user:create".into()),
                ("grant_type".into(), "client_credentials".into())
            ]
        );
        assert!(multipart_fields(b"--XyZ\r\nno blank line", "XyZ").is_none());
    }
}
