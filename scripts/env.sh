# Sourced by the run and test scripts: puts the project's tools on PATH.
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# The wasm file name the server's hydration script asks for. cargo-leptos sets it for its own builds;
# setting it for every build keeps `cargo test` from rebuilding the server differently.
export LEPTOS_OUTPUT_NAME=hris-connect
