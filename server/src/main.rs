// Leptos views are deeply nested types; release builds (LTO) compute their layouts here.
#![recursion_limit = "256"]

use server::{config::Config, startup};

#[tokio::main]
async fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{}", server::config::help());
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate-key") {
        match server::admin::generate_key(args.get(1).map(String::as_str).unwrap_or("")) {
            Ok(spec) => println!("{spec}"),
            Err(e) => {
                eprintln!("error: {e}\nusage: server generate-key <id>");
                std::process::exit(2);
            }
        }
        return;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    match args.first().map(String::as_str) {
        None => {}
        Some("rotate-key") => {
            startup::init_logging(config.log_format);
            match server::admin::rotate_key(&config).await {
                Ok(report) => print!("{report}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
            return;
        }
        Some(other) => {
            eprintln!(
                "error: unknown command {other:?}\n\n{}",
                server::config::help()
            );
            std::process::exit(2);
        }
    }
    startup::init_logging(config.log_format);
    let prepared = match startup::prepare(&config).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = startup::serve(prepared).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
