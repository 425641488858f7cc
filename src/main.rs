//! The `runboard` binary: parse the command line, run, report, exit.
//!
//! Exit codes: 0 the site was written (or `check` finished), whatever the runs'
//! problems; 1 a fatal error (bad command line, missing ROOT, unwritable output,
//! bad template);
//! 2 with `--strict` when any run has an error-level problem.

use clap::Parser as _;
use runboard::cli::{Cli, Command, CommonArgs, CompareArgs, SummaryArgs};
use runboard::progress::{summary_line, Progress};
use runboard::render::summary::{summary_md, SummaryOptions};
use runboard::{build, BuildReport, Options};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap would exit 2 on a bad command line, the code --strict owns.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let started = Instant::now();
    let (common, opts) = match &cli.command {
        Command::Build(args) => (
            &args.common,
            Options {
                root: args.common.root.clone(),
                out: Some(args.out.clone()),
                jobs: args.common.jobs.map(usize::from),
                title: args.title.clone(),
                templates: args.templates.clone(),
                set: args.common.set.clone(),
                smoothing: args.smoothing,
                group_by: args.common.group_by.clone(),
                progress: Progress::on_stderr(!args.common.quiet),
                cache: args.cache(),
            },
        ),
        Command::Formats => {
            print_formats();
            return ExitCode::SUCCESS;
        }
        Command::Summary(args) => return summary(args),
        Command::Compare(args) => return compare(args),
        Command::Check(common) => (
            common,
            Options {
                root: common.root.clone(),
                out: None,
                jobs: common.jobs.map(usize::from),
                title: String::new(),
                templates: None,
                set: common.set.clone(),
                smoothing: None,
                group_by: common.group_by.clone(),
                progress: Progress::on_stderr(!common.quiet),
                ..Options::new(&common.root)
            },
        ),
    };
    match build(&opts) {
        Ok(report) => {
            if !common.quiet {
                print_report(&report, &opts, started);
            }
            exit_code(&report, common)
        }
        Err(err) => {
            eprintln!("runboard: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// `runboard summary`: read and analyze, print markdown; problems stay off
/// stdout (it is the comment body), fatal errors exit 1.
fn summary(args: &SummaryArgs) -> ExitCode {
    let opts = Options {
        root: args.common.root.clone(),
        out: None,
        jobs: args.common.jobs.map(usize::from),
        title: args.title.clone(),
        templates: None,
        set: args.common.set.clone(),
        smoothing: None,
        group_by: args.common.group_by.clone(),
        ..Options::new(&args.common.root)
    };
    let fail = |message: String| {
        eprintln!("runboard: error: {message}");
        ExitCode::from(1)
    };
    let report = match build(&opts) {
        Ok(report) => report,
        Err(err) => return fail(format!("{err:#}")),
    };
    let summary_opts = SummaryOptions {
        baseline: args.baseline.clone(),
        max_chars: args.max_chars,
        base_url: args.base_url.clone(),
        mermaid: args.mermaid,
        top: args.top.max(1),
    };
    let md = match summary_md(&args.title, &report.runs, &summary_opts) {
        Ok(md) => md,
        Err(message) => return fail(message),
    };
    print!("{md}");
    if args.step_summary {
        let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
            return fail("--step-summary: GITHUB_STEP_SUMMARY is not set".into());
        };
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, md.as_bytes()));
        if let Err(e) = appended {
            return fail(format!("cannot append to {}: {e}", path.to_string_lossy()));
        }
    }
    exit_code(&report, &args.common)
}

/// `runboard compare A B`: read and analyze ROOT, print the diff of two runs.
fn compare(args: &CompareArgs) -> ExitCode {
    let opts = Options {
        root: args.root.clone(),
        out: None,
        jobs: None,
        title: String::new(),
        templates: None,
        set: args.set.clone(),
        smoothing: None,
        ..Options::new(&args.root)
    };
    let result = build(&opts)
        .map_err(|e| format!("{e:#}"))
        .and_then(|report| {
            runboard::render::diff::compare_md(&report.runs, &args.run_a, &args.run_b)
        });
    match result {
        Ok(md) => {
            print!("{md}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("runboard: error: {message}");
            ExitCode::from(1)
        }
    }
}

fn print_formats() {
    println!("runboard tries these readers in order; the first that claims a folder reads it.\n");
    for format in runboard::load::FORMATS {
        let (detects, reads) = runboard::load::catalog::describe(format.name).unwrap_or(("", ""));
        println!(
            "{}\n  detects: {detects}\n  reads:   {reads}\n",
            format.name
        );
    }
    for rule in runboard::load::merge::ABSORPTIONS {
        println!(
            "{} files under an {} run's {}/ folder are part of that run ({}, so its series win).",
            rule.guest, rule.host, rule.under, rule.preferred_because
        );
    }
}

fn print_report(report: &BuildReport, opts: &Options, started: Instant) {
    for skipped in &report.skipped {
        eprintln!("runboard: skipped {skipped}");
    }
    for (_, problem) in report.problems() {
        eprintln!("{problem}");
    }
    if report.runs.is_empty() {
        eprintln!("warning: no runs found under {}", opts.root.display());
    }
    let line = summary_line(
        report.runs.len(),
        report.runs_with_problems(),
        report.reused,
        opts.out.as_deref(),
        started.elapsed(),
    );
    eprintln!("{line}");
}

fn exit_code(report: &BuildReport, common: &CommonArgs) -> ExitCode {
    if common.strict && report.has_errors() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
