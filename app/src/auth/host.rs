//! Identity from the admin shell: a short-lived JWT, verified here, then exchanged for a session.
//!
//! The shell signs with HS256 (a shared secret) or EdDSA / RS256 (its private key; we hold the public
//! key). Claims:
//!
//! | Claim | Meaning |
//! |---|---|
//! | `iss`, `aud` | must equal the configured issuer and audience |
//! | `exp` (required), `iat`, `nbf` | checked with a small leeway; `exp` at most [`MAX_LIFETIME_SECS`] ahead |
//! | `sub` | the user's id in the shell |
//! | `name` | the user's display name |
//! | `org_id`, `org_name` | the organization |
//! | `locale` | e.g. `en`, `de-DE` (optional, default `en`) |
//! | `permissions` | array of `manage_integrations`, `service_desk` (unknown names are ignored) |
//! | `jti` | a unique id (recommended): a token signs in once, so two tokens must differ |
//!
//! A token opens one session ([`crate::auth::session::start_with_host_token`]): used again, it is refused
//! unless the request already carries that user's session.
//!
//! The host platform's backend reads the directory API (`/v1/...`) with a token of the same key,
//! issuer and audience ([`HostTokenVerifier::verify_directory`]): it needs `org_id` and
//! [`READ_DIRECTORY`] in `permissions` (`sub`, `name`, `org_name` are optional there), and it is
//! reusable until it expires (nothing records its use).

use std::fmt;

use jsonwebtoken::{decode, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Identity;
use crate::model::{OrganizationId, Permission};

/// Leeway for clock skew between the shell and this server.
pub const LEEWAY_SECS: u64 = 30;
/// A host token may not be valid for longer than this from now (they are meant to be short-lived).
pub const MAX_LIFETIME_SECS: i64 = 15 * 60;
/// Longest accepted token (bytes); anything larger is refused before parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The permission a directory API token must carry (not a permission of users in the UI).
pub const READ_DIRECTORY: &str = "read_directory";

/// The key the shell's tokens are checked with.
#[derive(Clone)]
pub enum HostKey {
    /// HS256 with a shared secret.
    Secret(Vec<u8>),
    /// EdDSA (Ed25519) or RS256, from a PEM public key.
    PublicKeyPem(String),
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Secret(_) => write!(f, "HostKey::Secret(<redacted>)"),
            HostKey::PublicKeyPem(_) => write!(f, "HostKey::PublicKeyPem"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostKeyError {
    #[error("the secret must be at least 32 bytes")]
    ShortSecret,
    #[error("expected a PEM public key (Ed25519 or RSA)")]
    BadPem,
}

/// Checks host tokens. Built once at start from configuration.
#[derive(Clone)]
pub struct HostTokenVerifier {
    key: DecodingKey,
    validation: Validation,
    /// The same checks without a required `sub` (the directory API's tokens name no user).
    directory_validation: Validation,
    pub issuer: String,
    pub audience: String,
}

impl fmt::Debug for HostTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostTokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused. Logged; users only learn that sign-in failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostTokenError {
    #[error("token too long")]
    TooLong,
    #[error("token expired")]
    Expired,
    #[error("token lifetime too long")]
    LifetimeTooLong,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("bad signature or algorithm")]
    Signature,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("missing or invalid claim {0}")]
    Claim(&'static str),
    #[error("the token lacks the permission {0}")]
    Permission(&'static str),
}

/// A text claim: trimmed, not empty, at most `max` characters, no control characters.
fn text(v: Option<String>, claim: &'static str, max: usize) -> Result<String, HostTokenError> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control))
        .ok_or(HostTokenError::Claim(claim))
}

#[derive(Deserialize)]
struct Claims {
    exp: i64,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    org_name: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl HostTokenVerifier {
    pub fn new(key: HostKey, issuer: &str, audience: &str) -> Result<Self, HostKeyError> {
        let (key, algorithms) = match key {
            HostKey::Secret(s) if s.len() < 32 => return Err(HostKeyError::ShortSecret),
            HostKey::Secret(s) => (DecodingKey::from_secret(&s), vec![Algorithm::HS256]),
            HostKey::PublicKeyPem(pem) => {
                if let Ok(k) = DecodingKey::from_ed_pem(pem.as_bytes()) {
                    (k, vec![Algorithm::EdDSA])
                } else if let Ok(k) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                    (k, vec![Algorithm::RS256])
                } else {
                    return Err(HostKeyError::BadPem);
                }
            }
        };
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms;
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        let mut directory_validation = validation.clone();
        directory_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Ok(HostTokenVerifier {
            key,
            validation,
            directory_validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and lifetime, then reads the identity.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Identity, HostTokenError> {
        let c = self.claims(token, now_secs, &self.validation)?;
        let locale = c
            .locale
            .map(|l| l.trim().to_string())
            .filter(|l| {
                !l.is_empty()
                    && l.len() <= 35
                    && l.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            })
            .unwrap_or_else(|| "en".into());
        let mut permissions: Vec<Permission> = c
            .permissions
            .iter()
            .filter_map(|p| Permission::parse(p))
            .collect();
        permissions.sort_by_key(|p| p.as_str());
        permissions.dedup();
        Ok(Identity {
            org_id: text(c.org_id, "org_id", 200)?.into(),
            org_name: text(c.org_name, "org_name", 200)?,
            user_id: text(c.sub, "sub", 200)?.into(),
            user_name: text(c.name, "name", 200)?,
            locale,
            permissions,
        })
    }

    /// Checks a directory API token (signature, algorithm, issuer, audience, expiry, lifetime) and
    /// returns its organization; it must carry [`READ_DIRECTORY`]. Unlike a sign-in token it is not
    /// used up: the host's backend may page with it until it expires.
    pub fn verify_directory(
        &self,
        token: &str,
        now_secs: i64,
    ) -> Result<OrganizationId, HostTokenError> {
        let c = self.claims(token, now_secs, &self.directory_validation)?;
        if !c.permissions.iter().any(|p| p == READ_DIRECTORY) {
            return Err(HostTokenError::Permission(READ_DIRECTORY));
        }
        Ok(text(c.org_id, "org_id", 200)?.into())
    }

    /// The claims of a token that passed `validation` and the lifetime check.
    fn claims(
        &self,
        token: &str,
        now_secs: i64,
        validation: &Validation,
    ) -> Result<Claims, HostTokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(HostTokenError::TooLong);
        }
        let data =
            decode::<Claims>(token.trim(), &self.key, validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => HostTokenError::Expired,
                ErrorKind::ImmatureSignature => HostTokenError::NotYetValid,
                ErrorKind::InvalidIssuer => HostTokenError::Issuer,
                ErrorKind::InvalidAudience => HostTokenError::Audience,
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::InvalidKeyFormat => HostTokenError::Signature,
                ErrorKind::MissingRequiredClaim(c) => {
                    HostTokenError::Malformed(format!("missing {c}"))
                }
                _ => HostTokenError::Malformed(e.to_string()),
            })?;
        let c = data.claims;
        if c.exp - now_secs > MAX_LIFETIME_SECS + LEEWAY_SECS as i64 {
            return Err(HostTokenError::LifetimeTooLong);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
    /// A throwaway Ed25519 key pair, for tests only.
    const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIOIkyHSjCTlzE8/3zISmel3Zqanb5HDT9ntqjLhin+5H\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAi9pdeIEiB1XQPGUZjxi7ynDRYCERjxFItYbuKPiMW1E=\n-----END PUBLIC KEY-----\n";

    fn now() -> i64 {
        crate::storage::now_ms() / 1000
    }

    fn claims(exp_in: i64) -> serde_json::Value {
        json!({
            "iss": "https://shell.example.com", "aud": "hris-connect", "sub": "u-1", "name": "Ada",
            "org_id": "org-1", "org_name": "Acme", "locale": "de-DE",
            "permissions": ["manage_integrations", "bogus"],
            "iat": now(), "exp": now() + exp_in,
        })
    }

    fn hs(claims: &serde_json::Value, secret: &[u8]) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn verifier() -> HostTokenVerifier {
        HostTokenVerifier::new(
            HostKey::Secret(SECRET.to_vec()),
            "https://shell.example.com",
            "hris-connect",
        )
        .unwrap()
    }

    #[test]
    fn a_good_hs256_token_gives_the_identity() {
        let id = verifier().verify(&hs(&claims(120), SECRET), now()).unwrap();
        assert_eq!(id.org_id, "org-1");
        assert_eq!(id.org_name, "Acme");
        assert_eq!(id.user_id, "u-1");
        assert_eq!(id.user_name, "Ada");
        assert_eq!(id.locale, "de-DE");
        assert_eq!(id.permissions, vec![Permission::ManageIntegrations]);
    }

    #[test]
    fn bad_tokens_are_refused() {
        let v = verifier();
        assert_eq!(
            v.verify(
                &hs(&claims(120), b"another-secret-another-secret-xx"),
                now()
            ),
            Err(HostTokenError::Signature)
        );
        assert_eq!(
            v.verify(&hs(&claims(-120), SECRET), now()),
            Err(HostTokenError::Expired)
        );
        assert_eq!(
            v.verify(&hs(&claims(24 * 3600), SECRET), now()),
            Err(HostTokenError::LifetimeTooLong)
        );
        let mut c = claims(120);
        c["iss"] = json!("https://evil.example.com");
        assert_eq!(
            v.verify(&hs(&c, SECRET), now()),
            Err(HostTokenError::Issuer)
        );
        let mut c = claims(120);
        c["aud"] = json!("other-app");
        assert_eq!(
            v.verify(&hs(&c, SECRET), now()),
            Err(HostTokenError::Audience)
        );
        let mut c = claims(120);
        c.as_object_mut().unwrap().remove("org_id");
        assert_eq!(
            v.verify(&hs(&c, SECRET), now()),
            Err(HostTokenError::Claim("org_id"))
        );
        // alg=none and unsigned tokens
        let none = format!(
            "{}.{}.",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                br#"{"alg":"none","typ":"JWT"}"#
            ),
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                claims(120).to_string()
            )
        );
        assert!(v.verify(&none, now()).is_err());
        assert!(v.verify("junk", now()).is_err());
        assert_eq!(
            v.verify(&"a".repeat(MAX_TOKEN_LEN + 1), now()),
            Err(HostTokenError::TooLong)
        );
        // small clock skew is tolerated
        assert!(v.verify(&hs(&claims(-10), SECRET), now()).is_ok());
    }

    #[test]
    fn eddsa_tokens_verify_with_the_public_key_and_refuse_hs256_confusion() {
        let v = HostTokenVerifier::new(
            HostKey::PublicKeyPem(ED_PUBLIC.into()),
            "https://shell.example.com",
            "hris-connect",
        )
        .unwrap();
        let token = encode(
            &Header::new(Algorithm::EdDSA),
            &claims(120),
            &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(v.verify(&token, now()).unwrap().user_id, "u-1");
        // An HS256 token "signed" with the public key text must not pass.
        assert_eq!(
            v.verify(&hs(&claims(120), ED_PUBLIC.as_bytes()), now()),
            Err(HostTokenError::Signature)
        );
    }

    #[test]
    fn directory_tokens_need_read_directory_and_org_id_but_no_user() {
        let v = verifier();
        let directory = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut c = json!({
                "iss": "https://shell.example.com", "aud": "hris-connect", "org_id": "org-1",
                "permissions": [READ_DIRECTORY], "exp": now() + 120,
            });
            f(&mut c);
            hs(&c, SECRET)
        };
        let token = directory(&|_| {});
        assert_eq!(v.verify_directory(&token, now()).unwrap(), "org-1");
        // Reusable: nothing is used up.
        assert_eq!(v.verify_directory(&token, now()).unwrap(), "org-1");
        // A sign-in token without the permission does not read the directory.
        assert_eq!(
            v.verify_directory(&hs(&claims(120), SECRET), now()),
            Err(HostTokenError::Permission(READ_DIRECTORY))
        );
        assert_eq!(
            v.verify_directory(&directory(&|c| c["permissions"] = json!([])), now()),
            Err(HostTokenError::Permission(READ_DIRECTORY))
        );
        assert_eq!(
            v.verify_directory(
                &directory(&|c| {
                    c.as_object_mut().unwrap().remove("org_id");
                }),
                now()
            ),
            Err(HostTokenError::Claim("org_id"))
        );
        assert_eq!(
            v.verify_directory(&directory(&|c| c["org_id"] = json!("  ")), now()),
            Err(HostTokenError::Claim("org_id"))
        );
        assert_eq!(
            v.verify_directory(&directory(&|c| c["exp"] = json!(now() - 120)), now()),
            Err(HostTokenError::Expired)
        );
        assert_eq!(
            v.verify_directory(
                &directory(&|c| c["iss"] = json!("https://evil.example")),
                now()
            ),
            Err(HostTokenError::Issuer)
        );
        assert_eq!(
            v.verify_directory(&directory(&|c| c["aud"] = json!("other")), now()),
            Err(HostTokenError::Audience)
        );
        let mut c = json!({"iss": "https://shell.example.com", "aud": "hris-connect",
            "org_id": "org-1", "permissions": [READ_DIRECTORY], "exp": now() + 120});
        assert_eq!(
            v.verify_directory(&hs(&c, b"another-secret-another-secret-xx"), now()),
            Err(HostTokenError::Signature)
        );
        c["exp"] = json!(now() + 24 * 3600);
        assert_eq!(
            v.verify_directory(&hs(&c, SECRET), now()),
            Err(HostTokenError::LifetimeTooLong)
        );
    }

    #[test]
    fn weak_keys_are_refused() {
        assert_eq!(
            HostTokenVerifier::new(HostKey::Secret(b"short".to_vec()), "i", "a").unwrap_err(),
            HostKeyError::ShortSecret
        );
        assert_eq!(
            HostTokenVerifier::new(HostKey::PublicKeyPem("nope".into()), "i", "a").unwrap_err(),
            HostKeyError::BadPem
        );
    }
}
