//! Renderers: plan-style text, versioned JSON and a Markdown PR comment. Pure functions.

use super::iam::{IamChange, StatementChange};
use super::{
    Action, ChangeKind, DiffReport, EntryChange, PropertyChange, Replacement, ReplacementReason, ResourceChange,
    StackDiff, StackStatus, Summary,
};
use serde_json::Value;
use std::fmt::Write as _;

/// GitHub's limit on a comment body.
pub const MARKDOWN_LIMIT: usize = 65_536;

const VALUE_WIDTH: usize = 160;

/// A short display of a value: strings bare, intrinsics in YAML short form (`!Ref X`,
/// `!GetAtt B.Arn`, `!Sub ...`), anything else compact JSON.
pub fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 => {
            let Some((k, inner)) = map.iter().next() else {
                return v.to_string();
            };
            match (k.as_str(), inner) {
                ("Ref", Value::String(s)) => format!("!Ref {s}"),
                ("Fn::GetAtt", Value::Array(items)) => {
                    let parts: Vec<String> = items.iter().map(short).collect();
                    format!("!GetAtt {}", parts.join("."))
                }
                ("Fn::GetAtt", Value::String(s)) => format!("!GetAtt {s}"),
                ("Fn::Sub", Value::String(s)) => format!("!Sub {s}"),
                (k, inner) if k.starts_with("Fn::") => format!("!{} {}", &k[4..], inline(inner)),
                _ => v.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// A value inside a property line: strings quoted, intrinsics short, truncated.
fn inline(v: &Value) -> String {
    let s = match v {
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Object(map) if map.len() == 1 && map.keys().all(|k| k == "Ref" || k.starts_with("Fn::")) => short(v),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    };
    truncate(&s, VALUE_WIDTH)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(3)).collect();
    format!("{cut}...")
}

/// `/Properties/Tags/0/Value` -> `Tags[0].Value`; `/DependsOn` -> `DependsOn`.
fn display_pointer(p: &str) -> String {
    let p = p.strip_prefix("/Properties").unwrap_or(p);
    let mut out = String::new();
    for tok in p.split('/').skip(1) {
        let tok = crate::findings::unescape_pointer_token(tok);
        if tok.parse::<usize>().is_ok() {
            let _ = write!(out, "[{tok}]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&tok);
        }
    }
    out
}

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn action(&self, a: Action, s: &str) -> String {
        let code = match a {
            Action::Add => "32",
            Action::Update | Action::MayReplace => "33",
            Action::Replace | Action::Remove => "31",
        };
        self.paint(code, s)
    }
    fn kind(&self, k: ChangeKind, s: &str) -> String {
        let code = match k {
            ChangeKind::Add => "32",
            ChangeKind::Remove => "31",
            ChangeKind::Modify | ChangeKind::Reorder => "33",
        };
        self.paint(code, s)
    }
}

fn kind_symbol(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Add => "+",
        ChangeKind::Remove => "-",
        ChangeKind::Modify | ChangeKind::Reorder => "~",
    }
}

/// The footer of one stack: "2 to add, 1 to change, 1 to replace, 0 to remove".
pub fn footer(s: &Summary) -> String {
    let mut out = format!(
        "{} to add, {} to change, {} to replace, {} to remove",
        s.add, s.change, s.replace, s.remove
    );
    if s.may_replace > 0 {
        let _ = write!(out, ", {} may be replaced", s.may_replace);
    }
    if s.retained > 0 {
        let _ = write!(out, " ({} retained, not deleted)", s.retained);
    }
    if s.other > 0 {
        let _ = write!(
            out,
            "; {} other change{} (parameters, outputs, conditions, mappings)",
            s.other,
            plural(s.other)
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The plan as text: destructive changes first, `# forces replacement` on the culprit
/// property, a footer per stack. `colour`: ANSI colours (the CLI passes "stdout is a TTY and
/// no --no-color").
pub fn text(report: &DiffReport, colour: bool) -> String {
    let pal = Palette { on: colour };
    let mut out = String::new();
    for (i, stack) in report.stacks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let status = match stack.status {
            StackStatus::New => " (new stack: no baseline, everything is added)",
            StackStatus::Removed => " (stack removed: everything in it is deleted)",
            StackStatus::Unchanged => ": no changes",
            StackStatus::Changed => "",
        };
        let _ = writeln!(out, "{}{}", pal.paint("1", &format!("Stack {}", stack.title())), status);
        if stack.status == StackStatus::Unchanged && stack.hidden.reordered + stack.hidden.reformatted == 0 {
            continue;
        }
        stack_body(stack, &pal, true, &mut out);
        let _ = writeln!(out, "{}", footer(&stack.summary));
    }
    if report.stacks.len() > 1 {
        let _ = writeln!(out, "\nTotal: {}", footer(&report.summary));
    }
    if report.summary.broadened {
        let _ = writeln!(out, "{}", pal.paint("31", "IAM permissions are broadened."));
    }
    out
}

/// Everything of one stack except its header and footer.
fn stack_body(stack: &StackDiff, pal: &Palette, with_iam: bool, out: &mut String) {
    for (title, entries) in [
        ("Template", &stack.template),
        ("Parameters", &stack.parameters),
        ("Mappings", &stack.mappings),
        ("Conditions", &stack.conditions),
    ] {
        entries_text(title, entries, pal, out);
    }
    if !stack.resources.is_empty() {
        let _ = writeln!(out, "Resources");
        for r in &stack.resources {
            resource_text(r, pal, out);
        }
    }
    entries_text("Outputs", &stack.outputs, pal, out);
    if with_iam && !stack.iam.is_empty() {
        let _ = writeln!(out, "IAM statement changes");
        out.push_str(&iam_text_table(&stack.iam, pal));
    }
    let h = stack.hidden;
    if h.masked + h.reordered + h.reformatted > 0 {
        let mut parts = Vec::new();
        if h.masked > 0 {
            parts.push(format!(
                "{} masked value{} (secrets, dynamic references)",
                h.masked,
                plural(h.masked)
            ));
        }
        if h.reordered > 0 {
            parts.push(format!(
                "{} array{} reordered only (order does not matter)",
                h.reordered,
                plural(h.reordered)
            ));
        }
        if h.reformatted > 0 {
            parts.push(format!(
                "{} JSON string{} reformatted only",
                h.reformatted,
                plural(h.reformatted)
            ));
        }
        let _ = writeln!(out, "Hidden: {}", parts.join(", "));
    }
}

fn entries_text(title: &str, entries: &[EntryChange], pal: &Palette, out: &mut String) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    for e in entries {
        let sym = pal.action(e.action, &format!("{:<3}", e.action.symbol()));
        match (e.action, e.changes.first()) {
            (Action::Add, Some(c)) => {
                let _ = writeln!(
                    out,
                    "{sym} {}: {}",
                    e.name,
                    c.after.as_ref().map(inline).unwrap_or_default()
                );
            }
            (Action::Remove, Some(c)) => {
                let _ = writeln!(
                    out,
                    "{sym} {}: {}",
                    e.name,
                    c.before.as_ref().map(inline).unwrap_or_default()
                );
            }
            _ => {
                let _ = writeln!(out, "{sym} {}", e.name);
                changes_text(&e.changes, pal, out);
            }
        }
    }
}

fn resource_text(r: &ResourceChange, pal: &Palette, out: &mut String) {
    let sym = pal.action(r.action, &format!("{:<3}", r.action.symbol()));
    let mut note = String::new();
    if let Some(from) = &r.renamed_from {
        let _ = write!(note, " (renamed from {from})");
    }
    if r.action == Action::Remove {
        note.push_str(if r.retained {
            " (retained, not deleted: DeletionPolicy Retain)"
        } else {
            " (deleted)"
        });
    }
    if r.reorder_only {
        note.push_str(" (reordered only, no change)");
    }
    let _ = writeln!(out, "{sym} {} {}{note}", r.resource_type, r.logical_id);
    for reason in &r.reasons {
        match reason {
            ReplacementReason::LogicalIdChange { from, to } => {
                let _ = writeln!(out, "      # forces replacement: logical id changed {from} -> {to}");
            }
            ReplacementReason::ReferenceReplaced {
                path,
                target,
                conditional,
            } => {
                let verb = if *conditional { "may force" } else { "forces" };
                let _ = writeln!(
                    out,
                    "      # {verb} replacement: {} references {target}, which is replaced",
                    display_pointer(path)
                );
            }
            ReplacementReason::TypeChange { .. } | ReplacementReason::CreateOnlyProperty { .. } => {}
        }
    }
    changes_text(&r.changes, pal, out);
}

fn changes_text(changes: &[PropertyChange], pal: &Palette, out: &mut String) {
    let mut json_header: Option<&str> = None;
    for c in changes {
        let mut indent = "      ";
        match &c.json_path {
            Some(_) => {
                if json_header != Some(c.path.as_str()) {
                    let label = display_pointer(&c.path);
                    let comment = replacement_comment(c.forces_replacement);
                    let _ = writeln!(
                        out,
                        "      {} {label} (JSON in a string){comment}",
                        pal.kind(ChangeKind::Modify, "~")
                    );
                    json_header = Some(c.path.as_str());
                }
                indent = "          ";
            }
            None => json_header = None,
        }
        let path = match &c.json_path {
            Some(j) if !j.is_empty() => display_pointer(j),
            Some(_) => "(document)".to_string(),
            None if c.path.is_empty() => "(value)".to_string(),
            None => display_pointer(&c.path),
        };
        let sym = pal.kind(c.kind, kind_symbol(c.kind));
        let body = match c.kind {
            ChangeKind::Add => format!("{path}: {}", c.after.as_ref().map(inline).unwrap_or_default()),
            ChangeKind::Remove => format!("{path}: {}", c.before.as_ref().map(inline).unwrap_or_default()),
            ChangeKind::Modify => format!(
                "{path}: {} -> {}",
                c.before.as_ref().map(inline).unwrap_or_default(),
                c.after.as_ref().map(inline).unwrap_or_default()
            ),
            ChangeKind::Reorder => format!("{path}: reordered only"),
        };
        let mut comment = if c.json_path.is_none() {
            replacement_comment(c.forces_replacement)
        } else {
            String::new()
        };
        if c.masked {
            comment.push_str("  # masked");
        }
        let _ = writeln!(out, "{indent}{sym} {body}{comment}");
    }
}

fn replacement_comment(r: Option<Replacement>) -> String {
    match r {
        Some(Replacement::Always) => "  # forces replacement".to_string(),
        Some(Replacement::Conditional) => "  # may force replacement".to_string(),
        _ => String::new(),
    }
}

struct IamRow {
    cells: [String; 8],
}

fn iam_rows(changes: &[IamChange]) -> Vec<IamRow> {
    changes
        .iter()
        .map(|c| IamRow {
            cells: [
                match c.change {
                    StatementChange::Added => "+".into(),
                    StatementChange::Removed => "-".into(),
                },
                format!("{} {}", c.logical_id, display_pointer(&c.source))
                    .trim()
                    .to_string(),
                c.effect.clone(),
                c.principal.join(", "),
                c.action.join(", "),
                c.resource.join(", "),
                c.condition
                    .as_ref()
                    .map(|v| truncate(&v.to_string(), 80))
                    .unwrap_or_default(),
                if c.broadened {
                    format!("BROADENED: {}", c.reasons.join("; "))
                } else {
                    String::new()
                },
            ],
        })
        .collect()
}

const IAM_HEADER: [&str; 8] = [
    "",
    "Resource",
    "Effect",
    "Principal",
    "Action",
    "Resource",
    "Condition",
    "Note",
];

fn iam_text_table(changes: &[IamChange], pal: &Palette) -> String {
    let rows = iam_rows(changes);
    let mut widths = IAM_HEADER.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.cells.iter()).take(IAM_HEADER.len() - 1) {
            *w = (*w).max(c.chars().count().min(60));
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let mut s = String::from("  ");
        for (i, (c, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i > 0 {
                s.push_str(" | ");
            }
            let c = if i + 1 == cells.len() {
                c.clone()
            } else {
                truncate(c, 60)
            };
            let pad = w.saturating_sub(c.chars().count());
            s.push_str(&c);
            s.push_str(&" ".repeat(pad));
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(IAM_HEADER.iter().map(|s| s.to_string()).collect(), &mut out);
    for r in rows {
        let cells = r.cells.to_vec();
        if pal.on {
            // Colour the whole row by its sign; padding computed on the plain text.
            let mut s = String::new();
            line(cells.clone(), &mut s);
            let code = if r.cells[0] == "+" { "32" } else { "31" };
            out.push_str(&pal.paint(code, s.trim_end_matches('\n')));
            out.push('\n');
        } else {
            line(cells, &mut out);
        }
    }
    out
}

/// The report as versioned JSON (`{"version": 1, "stacks": [...], "summary": {...}}`).
pub fn json(report: &DiffReport) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"version\": 1, \"error\": {}}}\n", Value::String(e.to_string())),
    }
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The report as a Markdown PR comment, capped at [`MARKDOWN_LIMIT`] bytes.
pub fn markdown(report: &DiffReport) -> String {
    markdown_capped(report, MARKDOWN_LIMIT)
}

/// The report as Markdown, at most `limit` bytes; when cut, a note says so.
pub fn markdown_capped(report: &DiffReport, limit: usize) -> String {
    let mut head = String::from("### kiro-infra diff\n\n");
    if !report.has_changes() {
        head.push_str("No changes.\n\n");
    }
    head.push_str("| Stack | Status | Add | Change | Replace | Remove | IAM |\n|---|---|--:|--:|--:|--:|---|\n");
    for s in &report.stacks {
        let m = &s.summary;
        let replace = if m.may_replace > 0 {
            format!("{} (+{} maybe)", m.replace, m.may_replace)
        } else {
            m.replace.to_string()
        };
        let iam = if m.iam_added + m.iam_removed == 0 {
            String::new()
        } else {
            format!(
                "+{} / -{}{}",
                m.iam_added,
                m.iam_removed,
                if m.broadened { " **broadened**" } else { "" }
            )
        };
        let status = match s.status {
            StackStatus::New => "new",
            StackStatus::Removed => "removed",
            StackStatus::Changed => "changed",
            StackStatus::Unchanged => "no changes",
        };
        let _ = writeln!(
            head,
            "| {} | {status} | {} | {} | {replace} | {} | {iam} |",
            md_cell(&s.title()),
            m.add,
            m.change,
            m.remove
        );
    }
    let warnings = md_warnings(report);
    if !warnings.is_empty() {
        head.push_str("\n> [!WARNING]\n");
        for w in &warnings {
            let _ = writeln!(head, "> - {w}");
        }
    }
    let hidden_masked: usize = report.stacks.iter().map(|s| s.hidden.masked).sum();
    let hidden_reordered: usize = report.stacks.iter().map(|s| s.hidden.reordered).sum();
    let mut hidden = Vec::new();
    if hidden_masked > 0 {
        hidden.push(format!(
            "{hidden_masked} masked value{} (secrets, dynamic references)",
            plural(hidden_masked)
        ));
    }
    if hidden_reordered > 0 {
        hidden.push(format!(
            "{hidden_reordered} array{} reordered only (order does not matter)",
            plural(hidden_reordered)
        ));
    }
    let hidden_reformatted: usize = report.stacks.iter().map(|s| s.hidden.reformatted).sum();
    if hidden_reformatted > 0 {
        hidden.push(format!(
            "{hidden_reformatted} JSON string{} reformatted only",
            plural(hidden_reformatted)
        ));
    }
    if !hidden.is_empty() {
        let _ = writeln!(head, "\n_Hidden: {}._", hidden.join(", "));
    }

    let blocks: Vec<String> = report
        .stacks
        .iter()
        .filter(|s| s.status != StackStatus::Unchanged)
        .map(md_stack)
        .collect();
    let total = blocks.len();
    let note = |shown: usize| {
        format!(
            "\n_Comment cut at {limit} characters: {} of {total} stack{} shown in full. Run `kiro-infra diff` for the whole diff._\n",
            shown,
            plural(total)
        )
    };
    let reserve = note(total).len() + 16;
    let mut out = head;
    if out.len() + reserve > limit {
        let cut = floor_boundary(&out, limit.saturating_sub(reserve));
        out.truncate(cut);
        out.push_str(&note(0));
        return out;
    }
    for (i, b) in blocks.iter().enumerate() {
        if out.len() + 1 + b.len() + reserve <= limit {
            out.push('\n');
            out.push_str(b);
            continue;
        }
        // Cut this block at a line boundary, close its fence and details, and stop.
        let closing = "```\n\n</details>\n";
        let room = limit.saturating_sub(out.len() + 1 + reserve + closing.len());
        let fence_end = b.find("```diff\n").map(|i| i + "```diff\n".len());
        if let Some(start) = fence_end
            && room > start
        {
            let cut = floor_boundary(b, room);
            let cut = b[..cut].rfind('\n').map(|n| n + 1).unwrap_or(0).max(start);
            let diff_end = b.find("\n```\n").map(|n| n + 1).unwrap_or(b.len());
            let cut = cut.min(diff_end);
            out.push('\n');
            out.push_str(&b[..cut]);
            out.push_str(closing);
        }
        out.push_str(&note(i));
        return out;
    }
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn md_warnings(report: &DiffReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in &report.stacks {
        let t = md_cell(&s.title());
        for r in &s.resources {
            let what = format!("`{}` ({})", md_cell(&r.logical_id), md_cell(&r.resource_type));
            match r.action {
                Action::Replace => out.push(format!("**{t}**: {what} will be **replaced**{}", md_reasons(r))),
                Action::MayReplace => out.push(format!("**{t}**: {what} **may be replaced**{}", md_reasons(r))),
                Action::Remove if r.retained => out.push(format!(
                    "**{t}**: {what} is removed from the stack but **retained** (not deleted)"
                )),
                Action::Remove => out.push(format!("**{t}**: {what} will be **deleted**")),
                _ => {}
            }
        }
        for c in s.iam.iter().filter(|c| c.broadened) {
            out.push(format!(
                "**{t}**: permissions **broadened** in `{}`: {}",
                md_cell(&c.logical_id),
                md_cell(&c.reasons.join("; "))
            ));
        }
    }
    out
}

fn md_reasons(r: &ResourceChange) -> String {
    let parts: Vec<String> = r
        .reasons
        .iter()
        .map(|x| match x {
            ReplacementReason::CreateOnlyProperty { path, .. } => {
                format!("`{}` changed", md_cell(&display_pointer(path)))
            }
            ReplacementReason::TypeChange { before, after } => {
                format!("type {} -> {}", md_cell(before), md_cell(after))
            }
            ReplacementReason::LogicalIdChange { from, .. } => format!("renamed from `{}`", md_cell(from)),
            ReplacementReason::ReferenceReplaced { path, target, .. } => format!(
                "`{}` references replaced `{}`",
                md_cell(&display_pointer(path)),
                md_cell(target)
            ),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

fn md_stack(s: &StackDiff) -> String {
    let mut body = String::new();
    stack_body(s, &Palette { on: false }, false, &mut body);
    let mut out = format!(
        "<details><summary><b>{}</b>: {}</summary>\n\n",
        html(&s.title()),
        html(&footer(&s.summary))
    );
    // The diff body never contains a fence of its own: values are single-line.
    out.push_str("```diff\n");
    out.push_str(&body.replace("```", "`\u{200b}``"));
    out.push_str("```\n");
    if !s.iam.is_empty() {
        out.push_str("\n| | Resource | Effect | Principal | Action | Resource | Condition | Note |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for r in iam_rows(&s.iam) {
            let cells: Vec<String> = r.cells.iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out.push_str("\n</details>\n");
    out
}
