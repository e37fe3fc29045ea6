//! The built site's static files: which of them are content-addressed (cached for a year) and
//! whether the site was built with hashed file names.
//!
//! `cargo leptos build` names the files of the site root's `pkg/` directory after the base64url MD5
//! of their bytes (`hash-files` in the root Cargo.toml): `hris-connect.<hash>.css`,
//! `split___desk_….<hash>.wasm`. With `--split` it rewrites some files after naming them (the main
//! js and wasm learn the split loader's final name), so their names do not follow every change of
//! their bytes: only a file whose name holds the MD5 of its bytes as served is immutable; the others
//! are revalidated.

use std::{collections::HashSet, path::Path};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use md5::{Digest, Md5};

/// `Cache-Control` of a content-addressed file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the other files under `/pkg/`: cached, but revalidated before each use.
pub const REVALIDATE: &str = "no-cache";

/// Length of a base64url (unpadded) MD5: 16 bytes.
const HASH_LEN: usize = 22;

/// The URL paths (`/{pkg_dir}/{name}`) of the content-addressed files directly in
/// `{site_root}/{pkg_dir}`: a dot-separated part of the name is the base64url MD5 of the file.
/// Precompressed siblings (`.br`, `.gz`) are served in their place and are not listed themselves.
pub fn content_addressed(site_root: &str, pkg_dir: &str) -> HashSet<String> {
    let dir = Path::new(site_root).join(pkg_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let parts: Vec<&str> = name.split('.').collect();
            if parts.len() < 3 || matches!(parts[parts.len() - 1], "br" | "gz") {
                return None;
            }
            let candidates: Vec<&str> = parts[1..parts.len() - 1]
                .iter()
                .copied()
                .filter(|p| p.len() == HASH_LEN)
                .collect();
            if candidates.is_empty() {
                return None;
            }
            let bytes = std::fs::read(e.path()).ok()?;
            let hash = URL_SAFE_NO_PAD.encode(Md5::digest(&bytes));
            candidates
                .contains(&hash.as_str())
                .then(|| format!("/{pkg_dir}/{name}"))
        })
        .collect()
}

/// True when the site at `site_root` was built with hashed names: cargo-leptos' `hash.txt` lies
/// beside the executable (where Leptos reads it to name the wasm, js and css in the page) and the
/// js it names exists. A `hash.txt` left from an older build of another site is ignored, so pages
/// never point at files that are not there.
pub fn site_is_hashed(site_root: &str, pkg_dir: &str, output_name: &str) -> bool {
    let Some(hash_file) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
    else {
        return false;
    };
    let Ok(hashes) = std::fs::read_to_string(&hash_file) else {
        return false;
    };
    let js = hashes
        .lines()
        .find_map(|line| line.trim().strip_prefix("js:"))
        .map(str::trim);
    let found = js.is_some_and(|hash| {
        Path::new(site_root)
            .join(pkg_dir)
            .join(format!("{output_name}.{hash}.js"))
            .is_file()
    });
    if !found {
        tracing::warn!(
            hash_file = %hash_file.display(),
            site_root,
            "the hash file names no file of the site; serving unhashed names"
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_holding_the_md5_of_the_bytes_are_content_addressed() {
        let root = std::env::temp_dir().join(format!("hris-assets-{}", uuid::Uuid::new_v4()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(pkg.join("snippets")).unwrap();
        let hash = URL_SAFE_NO_PAD.encode(Md5::digest(b"body{}"));
        let wrong = URL_SAFE_NO_PAD.encode(Md5::digest(b"other"));
        for (name, bytes) in [
            (format!("hris-connect.{hash}.css"), &b"body{}"[..]),
            (format!("hris-connect.{hash}.css.br"), b"compressed"),
            (format!("hris-connect.{wrong}.js"), b"body{}"),
            ("__wasm_split.______________________.js".into(), b"x"),
            ("hris-connect.wasm".into(), b"body{}"),
        ] {
            std::fs::write(pkg.join(name), bytes).unwrap();
        }
        std::fs::write(pkg.join("snippets").join(format!("a.{hash}.js")), b"body{}").unwrap();
        let found = content_addressed(root.to_str().unwrap(), "pkg");
        assert_eq!(
            found,
            HashSet::from([format!("/pkg/hris-connect.{hash}.css")])
        );
        assert!(content_addressed("/nonexistent", "pkg").is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }
}
