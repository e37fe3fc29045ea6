// Leptos views are deeply nested types; release builds (LTO) compute their layouts here.
#![recursion_limit = "256"]

use server::{
    config::{Config, Subcommand},
    startup,
};

#[tokio::main]
async fn main() {
    // clap prints `--help` (and usage errors) and exits.
    let matches = server::config::command().get_matches();
    let subcommand = server::config::subcommand(&matches);
    if let Some(Subcommand::GenerateKey { id }) = &subcommand {
        match server::admin::generate_key(id) {
            Ok(spec) => println!("{spec}"),
            Err(e) => {
                eprintln!("error: {e}\nusage: server generate-key <id>");
                std::process::exit(2);
            }
        }
        return;
    }
    let config = match Config::from_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Some(Subcommand::RotateKey) = subcommand {
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
