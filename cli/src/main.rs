//! `tessera`: the command-line front end of Tessera.

mod app;
mod args;
mod demo;
mod error;
mod local;
mod parse;
mod render;
mod secrets;
mod share;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(app::run(cli.command, cli.data_dir)) {
        Ok(output) => {
            let text = if json {
                format!("{:#}\n", output.json)
            } else {
                output.text
            };
            // A closed pipe (`tessera code list | head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            let text = if json {
                format!(
                    "{}\n",
                    json!({ "error": { "code": error.code(), "message": error.to_string() } })
                )
            } else {
                format!("error: {error}\n")
            };
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            error.exit_code()
        }
    }
}
