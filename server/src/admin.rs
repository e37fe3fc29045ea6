//! Admin commands of the server binary: `server rotate-key`, `server generate-key <id>`.

use app::{crypto::Keyring, storage::Db};

use crate::config::Config;

/// Re-encrypts every stored secret under the first key of `HRIS_ENCRYPTION_KEYS` (older keys in the
/// list must still be there to open what they sealed). Returns a report for the operator.
///
/// Rotation: put the new key first (`HRIS_ENCRYPTION_KEYS=k2:...,k1:...`), restart the servers (new
/// secrets are sealed with k2, k1 still opens), run `server rotate-key`, then drop k1 from the list
/// once the report shows no value left under it.
pub async fn rotate_key(config: &Config) -> Result<String, String> {
    let keyring = crate::keys::load(config).map_err(|e| e.to_string())?;
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database (DATABASE_URL): {e}"))?;
    let result = rotate_with(&db, &keyring).await;
    db.close().await;
    result
}

pub async fn rotate_with(db: &Db, keyring: &Keyring) -> Result<String, String> {
    let report = db.reseal_all(keyring).await.map_err(|e| e.to_string())?;
    let mut out = format!(
        "re-encrypted {} secret(s) under key {:?}\n",
        report.total(),
        keyring.primary_id()
    );
    for (col, n) in &report.resealed {
        out.push_str(&format!("  {}.{}: {n}\n", col.table, col.enc));
    }
    let counts = db.sealed_key_counts().await.map_err(|e| e.to_string())?;
    out.push_str("secrets per key now:\n");
    for (key, n) in &counts {
        out.push_str(&format!("  {key}: {n}\n"));
    }
    if counts.iter().all(|(k, _)| k == keyring.primary_id()) {
        out.push_str("no secret needs an older key any more: older keys may be removed\n");
    }
    Ok(out)
}

/// A new random key in the form `HRIS_ENCRYPTION_KEYS` reads.
pub fn generate_key(id: &str) -> Result<String, String> {
    if id.is_empty() || id.contains([',', ':']) || id.chars().any(char::is_whitespace) {
        return Err("the key id must be non-empty, without ',', ':' or spaces".into());
    }
    Ok(Keyring::generate_spec(id))
}
