use crate::cache::VerdictCache;
use crate::checks::TemplateCheck;
use crate::cli::SynthArgs;
use crate::error::{Error, Exit};
use crate::findings::Severity;
use crate::{config, output, synth};
use std::io::Write;

pub fn run(args: &SynthArgs) -> Result<Exit, Error> {
    let cache = if args.no_cache { None } else { VerdictCache::from_env() };
    // With no stored verdict that could answer (no cache, or an empty one) the checks will run:
    // the built-in rules are parsed from process start on the core that loading the config and
    // building the templates leave, and that thread then takes its share of the checks (see
    // `checks::synthesize_and_check`).
    let out_display = args.out.display().to_string();
    let (mut synthesis, fresh, prepared) = if cache.as_ref().is_none_or(VerdictCache::is_empty) {
        // The output is planned, compared and staged while the checks run (nothing is put in
        // place before they pass).
        let (synthesis, checks, rules, prepared) = crate::checks::synthesize_and_check(
            || {
                crate::trace::mark(format_args!("config start"));
                Ok(config::load(args.config.config.as_deref())?)
            },
            &args.envs,
            |envs, stacks| (!args.stdout).then(|| prepare(args, &out_display, envs, stacks.iter().copied())),
        )?;
        (synthesis, Some((checks, rules)), prepared)
    } else {
        let config = config::load(args.config.config.as_deref())?;
        (synth::synthesize_rendered(&config, &args.envs)?, None, None)
    };
    let key = cache.as_ref().map(|c| {
        c.key(
            synthesis
                .stacks
                .iter()
                .map(|s| (s.file.as_str(), s.rendered().text.as_str())),
        )
    });
    let cached = match fresh {
        Some(_) => None,
        None => cache.as_ref().zip(key.as_deref()).and_then(|(c, k)| c.get(k)),
    };
    match cached {
        Some(summary) => {
            eprint!("{summary}");
            eprintln!("(verdict cached for these exact templates and this binary; --no-cache checks again)");
        }
        None => {
            let (checks, rules) = match fresh {
                Some(done) => done,
                // The cache missed: the built-in rules are parsed beside the checks that need
                // none.
                None => {
                    let (built, checks, rules) = crate::checks::check_built(synthesis)?;
                    synthesis = built;
                    (checks, rules)
                }
            };
            crate::trace::mark(format_args!("checks end"));
            let (summary, failed) = findings_summary(&checks);
            eprint!("{summary}");
            if failed {
                if args.stdout {
                    return Ok(Exit::Violations);
                }
                // The full report (expected vs actual, message, fix, source line) for every failure.
                let mut report = crate::report::CheckReport::default();
                for (stack, check) in synthesis.stacks.iter().zip(checks) {
                    super::check::push(
                        &mut report,
                        stack.file.clone(),
                        check,
                        Some(stack.rendered().text.clone()),
                        crate::report::SourceIndex::default(),
                    );
                }
                let color =
                    std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr());
                eprint!("{}", crate::report::render_text(&report, color));
                eprintln!("nothing written: fix the errors above first");
                return Ok(Exit::Violations);
            }
            if let (Some(c), Some(k)) = (&cache, &key) {
                c.put(k, &summary);
            }
            super::keep_until_exit((checks, rules));
        }
    }

    if args.stdout {
        let name = args.stack.as_deref().ok_or(Error::StdoutNeedsStack)?;
        let stack = synthesis
            .stacks
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownStack {
                name: name.to_string(),
                known: synthesis.stacks.iter().map(|s| s.name.clone()).collect(),
            })?;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(stack.rendered().text.as_bytes());
        return Ok(Exit::Ok);
    }

    let Prepared { files, stale, staged } = match prepared {
        Some(p) => p,
        None => prepare(args, &out_display, &synthesis.environments, synthesis.stacks.iter()),
    };
    if args.check {
        if stale.is_empty() {
            eprintln!("{out_display}/ is up to date ({} files)", files.len());
            return Ok(Exit::Ok);
        }
        eprintln!("{out_display}/ is stale: run `kiro-infra synth` and commit the result");
        for f in &stale {
            eprintln!("  {out_display}/{f}");
        }
        return Ok(Exit::Violations);
    }
    let what = format!(
        "{} templates for {} ({}), and {out_display}/{}",
        synthesis.stacks.len(),
        if synthesis.environments.len() == 1 {
            "1 environment".to_string()
        } else {
            format!("{} environments", synthesis.environments.len())
        },
        synthesis.environments.join(", "),
        output::MANIFEST
    );
    // A directory that already holds exactly these bytes is left alone: nothing to swap, and
    // unchanged files keep their modification times (build tools and editors see no change).
    match staged {
        None => eprintln!("up to date: {what} already hold exactly this output (no file rewritten)"),
        Some(staged) => {
            staged?.commit()?;
            eprintln!("wrote {what}");
        }
    }
    crate::trace::mark(format_args!("written"));
    super::keep_until_exit((synthesis, files));
    Ok(Exit::Ok)
}

/// The output of a synth, worked out before it is put in place: every file, those that differ
/// from the output directory, and (when some do and the files are to be written) the new tree
/// staged beside the directory, swapped in only once every check has passed.
struct Prepared {
    files: std::collections::BTreeMap<String, Vec<u8>>,
    stale: Vec<String>,
    staged: Option<Result<output::Staged, output::OutputError>>,
}

fn prepare<'s>(
    args: &SynthArgs,
    out_display: &str,
    envs: &[String],
    stacks: impl Iterator<Item = &'s synth::SynthesizedStack>,
) -> Prepared {
    let files = output::plan(envs, stacks, &args.out, out_display);
    let stale = output::stale(&args.out, &files);
    let staged = (!args.check && !stale.is_empty()).then(|| output::stage(&args.out, &files));
    Prepared { files, stale, staged }
}

/// The warnings (one line each), the suppressions and a summary line, for stderr; true when
/// any finding is an error (the caller prints the full report of those).
fn findings_summary(checks: &[TemplateCheck]) -> (String, bool) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let findings: Vec<&crate::findings::Finding> = checks.iter().flat_map(|c| c.all_findings()).collect();
    for f in findings.iter().filter(|f| f.severity == Severity::Warning) {
        let level = "warning";
        let at = match (&f.logical_id, f.line) {
            (Some(id), Some(line)) => format!("{}:{line} {id}", f.stack),
            (Some(id), None) => format!("{} {id}", f.stack),
            (None, Some(line)) => format!("{}:{line}", f.stack),
            (None, None) => f.stack.clone(),
        };
        let _ = writeln!(text, "{level}: {at} {}: {}", f.pointer, f.message);
    }
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for run in checks.iter().flat_map(|c| c.rules.iter()) {
        match run.status {
            crate::guard::Status::Pass => pass += 1,
            crate::guard::Status::Fail => fail += 1,
            crate::guard::Status::Skip => skip += 1,
        }
    }
    let suppressions: Vec<String> = checks
        .iter()
        .flat_map(|c| {
            c.suppressions.iter().map(move |s| {
                format!(
                    "  {} {} {}: {}",
                    c.stack,
                    s.logical_id,
                    s.rule,
                    s.reason.as_deref().unwrap_or("(no reason: an error)")
                )
            })
        })
        .collect();
    if !suppressions.is_empty() {
        let _ = writeln!(text, "suppressions in effect:");
        for s in &suppressions {
            let _ = writeln!(text, "{s}");
        }
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let _ = writeln!(
        text,
        "checked {} templates: rules {pass} PASS, {fail} FAIL, {skip} SKIP; {errors} error{}, {} warning{}, {} suppression{}",
        checks.len(),
        if errors == 1 { "" } else { "s" },
        findings.len() - errors,
        if findings.len() - errors == 1 { "" } else { "s" },
        suppressions.len(),
        if suppressions.len() == 1 { "" } else { "s" },
    );
    (text, errors > 0)
}
