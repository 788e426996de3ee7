//! Compiles the built-in rules (`rules/*.guard`) into the binary: writes a sorted list of
//! `(file name, include_str!(...))` pairs, so a new rules file needs no code change.
//!
//! Also slims the vendored resource schemas (`schemas/aws-*.json`) for embedding: the prose
//! (`description`, `markdownDescription`, `title`, `examples`, `$comment`) and the provider's
//! `handlers` are two thirds of their 400 KB, no check reads them, and parsing them was one
//! seventh of a cold synth. Everything a validator reads stays, in the same order.

use std::fs;
use std::path::Path;

use serde_json::Value;

/// On Linux with glibc, the `kiro-infra` executable is linked at a fixed address (`-no-pie`):
/// its ~18,000 relative relocations are then resolved by the linker instead of by the dynamic
/// loader at every start (0.4 ms of a 10 ms run), and the pages they would touch stay shared
/// and clean. Only the binary is linked so (not tests, examples or proc-macros); the code is
/// the same. The price is no address randomisation of the executable itself: `KIRO_BUILD_PIE=1`
/// at build time keeps the usual position-independent executable.
fn link_without_pie() {
    println!("cargo:rerun-if-env-changed=KIRO_BUILD_PIE");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" && var("KIRO_BUILD_PIE").is_empty()
    {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

/// Annotation keywords dropped wherever a schema (not a property name) is expected.
const PROSE: &[&str] = &["description", "markdownDescription", "title", "examples", "$comment"];

/// Drops [`PROSE`] from a schema object and every subschema below it. Keys of `properties`,
/// `patternProperties` and `definitions` are names, not keywords: only their values are walked.
fn slim(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    map.retain(|k, _| !PROSE.contains(&k.as_str()));
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(slim);
                }
            }
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "anyOf"
            | "oneOf"
            | "allOf"
            | "prefixItems" => match value {
                Value::Array(list) => list.iter_mut().for_each(slim),
                other => slim(other),
            },
            _ => {}
        }
    }
}

fn slim_schemas(out_dir: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    println!("cargo:rerun-if-changed={}", dir.display());
    let dest = out_dir.join("schemas");
    fs::create_dir_all(&dest).expect("OUT_DIR is writable");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("schemas/ is vendored")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("aws-") && n.ends_with(".json"))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).expect("a vendored schema is readable");
        let mut schema: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        if let Value::Object(top) = &mut schema {
            top.shift_remove("handlers");
        }
        slim(&mut schema);
        let slimmed = serde_json::to_string(&schema).expect("a JSON value serializes");
        fs::write(dest.join(&name), slimmed).expect("OUT_DIR is writable");
    }
}

fn main() {
    link_without_pie();
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    slim_schemas(Path::new(&out_dir));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".guard"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out =
        String::from("/// Built-in rules files: (file name, source).\npub const BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
        out.push_str(&format!(
            "    ({f:?}, include_str!({:?})),\n",
            dir.join(f).display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&out_dir).join("builtin_rules.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
