//! Every check a template passes before it is written (or that `check` runs on any template):
//! CloudFormation limits, cross-stack consistency, resource schemas and Guard rules.

use crate::findings::{Finding, Source};
use crate::synth::{INLINE_TEMPLATE_LIMIT, Synthesis};
use serde_json::Value;

/// CloudFormation's hard limit on a template body uploaded through S3.
pub const TEMPLATE_BODY_LIMIT: usize = 1_000_000;

/// Runs every check on a synthesis; findings carry the line in the rendered template.
pub fn check_synthesis(synthesis: &Synthesis) -> Vec<Finding> {
    let mut findings = Vec::new();
    for stack in &synthesis.stacks {
        let mut own = limits(&stack.name, &stack.value, stack.rendered.text.len());
        for f in &mut own {
            f.line = stack.rendered.line_of(&f.pointer);
        }
        findings.extend(own);
    }
    findings
}

/// Size and count limits of one template.
pub fn limits(stack: &str, template: &Value, bytes: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    if bytes > TEMPLATE_BODY_LIMIT {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("the template is {bytes} bytes; CloudFormation accepts at most {TEMPLATE_BODY_LIMIT}"),
            )
            .fix("split the stack"),
        );
    } else if bytes > INLINE_TEMPLATE_LIMIT {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("the template is {bytes} bytes, over the {INLINE_TEMPLATE_LIMIT}-byte inline limit"),
            )
            .fix("deploy with --s3-bucket (the manifest's deploy command does)")
            .warning(),
        );
    }
    for (section, max) in [("Resources", 500), ("Outputs", 200), ("Parameters", 200)] {
        let n = template.get(section).and_then(Value::as_object).map_or(0, |m| m.len());
        if n > max {
            out.push(Finding::new(
                Source::Limit,
                stack,
                format!("/{section}"),
                format!("{n} {section}; CloudFormation accepts at most {max}"),
            ));
        }
    }
    out
}
