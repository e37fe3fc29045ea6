//! The encryption keyring: from configuration, or (dev only) a key generated once in the data dir.

use std::path::Path;

use app::crypto::Keyring;

use crate::config::{Config, ConfigError};

pub const DEV_KEY_FILE: &str = "encryption-keys";
pub const DEV_WEBHOOK_KEY_FILE: &str = "webhook-keys";

pub fn load(config: &Config) -> Result<Keyring, ConfigError> {
    if let Some(spec) = &config.encryption_keys {
        return Keyring::parse(spec).map_err(|e| ConfigError {
            var: "HRIS_ENCRYPTION_KEYS",
            message: e.to_string(),
        });
    }
    let spec = dev_key(&config.data_dir).map_err(|e| ConfigError {
        var: "HRIS_DATA_DIR",
        message: format!("cannot keep the dev encryption key there: {e}"),
    })?;
    tracing::warn!(
        "!!! HRIS_ENCRYPTION_KEYS is not set: secrets are encrypted with a DEV key stored in {}. \
         Anyone with that file can read the stored account tokens. Never use this outside development. !!!",
        config.data_dir.join(DEV_KEY_FILE).display()
    );
    Keyring::parse(&spec).map_err(|e| ConfigError {
        var: "HRIS_DATA_DIR",
        message: format!("{DEV_KEY_FILE}: {e}"),
    })
}

/// The keys Merge's webhooks are verified with: from configuration, or (dev only) a key generated
/// once in the data dir (`make run` gives its first key to the Merge sandbox to sign with).
pub fn webhook_keys(config: &Config) -> Result<Vec<String>, ConfigError> {
    if let Some(keys) = &config.webhook_keys {
        return Ok(keys.clone());
    }
    let spec = dev_file(&config.data_dir, DEV_WEBHOOK_KEY_FILE, || {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        use rand::RngCore;
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        format!("whsec_dev_{}", URL_SAFE_NO_PAD.encode(raw))
    })
    .map_err(|e| ConfigError {
        var: "HRIS_DATA_DIR",
        message: format!("cannot keep the dev webhook key there: {e}"),
    })?;
    Ok(vec![spec])
}

fn dev_key(dir: &Path) -> std::io::Result<String> {
    dev_file(dir, DEV_KEY_FILE, || Keyring::generate_spec("dev-1"))
}

/// A secret generated once in `dir/name` (mode 0600) and read back afterwards.
fn dev_file(dir: &Path, name: &str, generate: impl FnOnce() -> String) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(spec) => Ok(spec.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let spec = generate();
            write_private(&path, &spec)?;
            Ok(spec)
        }
        Err(e) => Err(e),
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_key_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("hris-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = dev_key(&dir).unwrap();
        let second = dev_key(&dir).unwrap();
        assert_eq!(first, second);
        let sealed = Keyring::parse(&first).unwrap().seal("x");
        assert_eq!(Keyring::parse(&second).unwrap().open(&sealed).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
