//! `kiro-infra rules list | explain | test`.

use crate::cli::{ListFormat, RulesCommand, RulesSourceArgs, RulesTestArgs};
use crate::error::{Error, Exit};
use crate::guard;
use crate::ruleset::{self, LoadedRules, Profile, RuleDoc, RuleSet};
use std::path::{Path, PathBuf};

pub fn run(cmd: RulesCommand) -> Result<Exit, Error> {
    match cmd {
        RulesCommand::List(args) => {
            let set = load(&args.source)?;
            print!("{}", list(&set, args.format));
            Ok(Exit::Ok)
        }
        RulesCommand::Explain(args) => {
            let set = load(&args.source)?;
            let doc = set.find(&args.id).ok_or_else(|| set.unknown(&args.id))?;
            print!("{}", explain(doc));
            Ok(Exit::Ok)
        }
        RulesCommand::Test(args) => test(&args),
    }
}

/// The rule set named by `--rules` / `--no-builtin-rules` (every rule, any profile).
pub fn load(source: &RulesSourceArgs) -> Result<RuleSet, Error> {
    let mut files = if source.no_builtin_rules {
        Vec::new()
    } else {
        RuleSet::builtin()?
    };
    for path in &source.rules {
        files.extend(ruleset::load_path(path)?);
    }
    Ok(RuleSet::new(files, Vec::new(), Vec::new())?)
}

fn profile_text(p: &Profile) -> String {
    match p {
        Profile::Default => "default".into(),
        Profile::Off => "off".into(),
        Profile::Optional(list) => format!("optional: {}", list.join(", ")),
    }
}

fn severity_text(d: &RuleDoc) -> &'static str {
    match d.severity {
        crate::findings::Severity::Error => "error",
        crate::findings::Severity::Warning => "warning",
    }
}

/// The rule table in the requested format.
pub fn list(set: &RuleSet, format: ListFormat) -> String {
    let docs: Vec<&RuleDoc> = set.docs().collect();
    match format {
        ListFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&serde_json::json!({"version": 1, "rules": docs})).unwrap_or_default();
            s.push('\n');
            s
        }
        ListFormat::Markdown => {
            let mut s = String::from("| id | severity | profile | checks | peers |\n|---|---|---|---|---|\n");
            for d in &docs {
                s.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    d.id,
                    severity_text(d),
                    profile_text(&d.profile),
                    d.title.replace('|', "\\|"),
                    d.peers.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" ")
                ));
            }
            s
        }
        ListFormat::Text => {
            let width = docs.iter().map(|d| d.id.len()).max().unwrap_or(2);
            let mut s = String::new();
            for d in &docs {
                s.push_str(&format!(
                    "{:<width$}  {:<7}  {:<28}  {}\n",
                    d.id,
                    severity_text(d),
                    profile_text(&d.profile),
                    d.title
                ));
            }
            let on = docs.iter().filter(|d| d.profile == Profile::Default).count();
            s.push_str(&format!(
                "{} rules: {on} default, {} optional (--profile), {} off (by id only)\n",
                docs.len(),
                docs.iter()
                    .filter(|d| matches!(d.profile, Profile::Optional(_)))
                    .count(),
                docs.iter().filter(|d| d.profile == Profile::Off).count()
            ));
            s
        }
    }
}

/// One rule's full documentation.
pub fn explain(d: &RuleDoc) -> String {
    format!(
        "{id}: {title}\n\n  severity  {sev}\n  profile   {profile}\n  covers    {rows}\n  peers     {peers}\n  defined   {file}:{line}\n\nWhat it checks\n  {what}\n\nWhy\n  {why}\n\nHow to fix\n  {fix}\n\nSuppress it for one resource (with the reason kiro-infra requires):\n  Metadata:\n    guard:\n      SuppressedRules: [{id}]\n      SuppressionReasons: {{{id}: \"why it does not apply here\"}}\n",
        id = d.id,
        title = d.title,
        sev = severity_text(d),
        profile = profile_text(&d.profile),
        rows = if d.rows.is_empty() {
            "-".into()
        } else {
            d.rows.join(" ")
        },
        peers = if d.peers.is_empty() {
            "-".into()
        } else {
            d.peers.join(" ")
        },
        file = d.file,
        line = d.line,
        what = d.what,
        why = d.why,
        fix = d.fix,
    )
}

/// Pairs of (rules file, test file) to run: `-r`/`-t`, or `cfn-guard test -d` pairing (each
/// `X.guard` with the files of `DIR/tests/` whose names start with `X`).
fn test_pairs(args: &RulesTestArgs) -> Result<Vec<(PathBuf, PathBuf)>, Error> {
    if let (Some(r), Some(t)) = (&args.rules_file, &args.tests) {
        return Ok(vec![(r.clone(), t.clone())]);
    }
    let dir = &args.dir;
    let pairs: Vec<(PathBuf, PathBuf)> = guard::test_dir_pairs(dir)
        .map_err(|source| Error::Io {
            path: dir.display().to_string(),
            action: "cannot list rules",
            source,
        })?
        .into_iter()
        .flat_map(|(rules, tests)| tests.into_iter().map(move |t| (rules.clone(), t)))
        .collect();
    if pairs.is_empty() {
        return Err(ruleset::RulesError::Empty {
            path: format!("{} (no X.guard with tests/X*.yaml)", dir.display()),
        }
        .into());
    }
    Ok(pairs)
}

fn test(args: &RulesTestArgs) -> Result<Exit, Error> {
    let pairs = test_pairs(args)?;
    let (mut met, mut missed) = (0usize, 0usize);
    for (rules_path, tests_path) in &pairs {
        let loaded: LoadedRules =
            ruleset::load_path(rules_path)?
                .into_iter()
                .next()
                .ok_or_else(|| ruleset::RulesError::Empty {
                    path: rules_path.display().to_string(),
                })?;
        let text = read(tests_path)?;
        let outcomes = guard::run_test_file(&loaded.rules, &text, &tests_path.display().to_string())
            .map_err(ruleset::RulesError::from)?;
        for o in &outcomes {
            if o.expected == o.actual {
                met += 1;
            } else {
                missed += 1;
                println!(
                    "MISMATCH {}: case `{}`: rule {} expected {} got {}",
                    tests_path.display(),
                    o.case_name,
                    o.rule,
                    o.expected,
                    o.actual
                );
            }
        }
    }
    println!("{met} passed, {missed} failed");
    Ok(if missed == 0 { Exit::Ok } else { Exit::Violations })
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        action: "cannot read",
        source,
    })
}
