//! Runs the Merge sandbox:
//! `merge-sandbox --addr 127.0.0.1:4010 --api-key <key> --employees <n> [--public-url <url>]
//!  [--webhook-url <url> --webhook-key <key>]`
//!
//! The webhook key may come from `SANDBOX_WEBHOOK_KEY` instead of `--webhook-key` (keeps it out of
//! the process list). Prints `Merge sandbox on <url> (API base <url>)` once it listens.

use std::net::SocketAddr;

use merge_sandbox::{spawn, SandboxConfig, WebhookTarget, DEMO_PASSWORD};

const USAGE: &str = "usage: merge-sandbox [--addr 127.0.0.1:4010] [--api-key KEY] [--employees N] \
[--public-url URL] [--webhook-url URL --webhook-key KEY]\n\
(the webhook key may also come from the environment variable SANDBOX_WEBHOOK_KEY)";

fn parse(
    args: impl Iterator<Item = String>,
    env_hook_key: Option<String>,
) -> Result<(SocketAddr, SandboxConfig), String> {
    let mut addr: SocketAddr = "127.0.0.1:4010".parse().map_err(|e| format!("{e}"))?;
    let mut config = SandboxConfig::default();
    let (mut hook_url, mut hook_key) = (None, env_hook_key.filter(|k| !k.trim().is_empty()));
    let mut args = args.skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?,
            "--api-key" => config.api_key = value,
            "--employees" => {
                config.default_employees = value
                    .parse()
                    .map_err(|e| format!("--employees {value}: {e}"))?
            }
            "--public-url" => config.public_url = Some(value),
            "--webhook-url" => hook_url = Some(value),
            "--webhook-key" => hook_key = Some(value),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    config.webhook = match (hook_url, hook_key) {
        (Some(url), Some(signing_key)) => Some(WebhookTarget { url, signing_key }),
        (None, None) => None,
        _ => {
            return Err(
                "--webhook-url and --webhook-key (or SANDBOX_WEBHOOK_KEY) go together".to_string(),
            )
        }
    };
    Ok((addr, config))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (addr, config) = match parse(std::env::args(), std::env::var("SANDBOX_WEBHOOK_KEY").ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            std::process::exit(2);
        }
    };
    let employees = config.default_employees;
    match spawn(config, listener).await {
        Ok(handle) => {
            println!(
                "Merge sandbox on {} (API base {})",
                handle.public_url,
                handle.api_base_url()
            );
            println!("Link script: {}; demo password: {DEMO_PASSWORD}; {employees} employees per organization", handle.link_script_url());
            tokio::select! {
                // Leaving main ends the runtime and the server with it.
                _ = tokio::signal::ctrl_c() => {}
                _ = handle.wait() => {}
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> std::vec::IntoIter<String> {
        std::iter::once("merge-sandbox")
            .chain(a.iter().copied())
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn flags_and_the_environment_key() {
        let (addr, c) = parse(
            args(&["--addr", "127.0.0.1:0", "--webhook-url", "http://x/hooks"]),
            Some("whsec_env".into()),
        )
        .unwrap();
        assert_eq!(addr.port(), 0);
        assert_eq!(c.webhook.unwrap().signing_key, "whsec_env");
        let (_, c) = parse(
            args(&["--webhook-url", "http://x", "--webhook-key", "whsec_flag"]),
            Some("whsec_env".into()),
        )
        .unwrap();
        assert_eq!(
            c.webhook.unwrap().signing_key,
            "whsec_flag",
            "the flag wins"
        );
        assert!(parse(args(&["--webhook-url", "http://x"]), None).is_err());
        assert!(parse(args(&["--employees", "many"]), None).is_err());
        assert!(parse(args(&["--bogus", "1"]), None).is_err());
    }
}
