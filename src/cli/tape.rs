//! `watchband tape FILE.tape`: plays a scripted walkthrough headlessly on the demo account and
//! writes the recording and screenshots the tape names.

use crate::cli::{SourceArgs, TapeArgs};
use crate::recording::runner::{TapeOptions, run_file};
use std::process::ExitCode;

pub fn run(args: &TapeArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let title = args
        .tape
        .file_stem()
        .map(|s| format!("watchband: {}", s.to_string_lossy()))
        .unwrap_or_else(|| "watchband".into());
    let options = TapeOptions {
        seed: source.seed,
        speed: source.speed,
        title,
    };
    let report = run_file(&args.tape, &options)?;
    for path in &report.written {
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "{}: {:.1} s of virtual time, {} recorded events",
        args.tape.display(),
        report.seconds,
        report.events
    );
    Ok(ExitCode::SUCCESS)
}
