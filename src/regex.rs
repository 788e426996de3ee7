//! Regular expressions shared by the Guard engine (rule literals like `/^arn:/`) and the resource
//! schemas (`pattern`): compiled lazily, once per distinct source for the whole process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A regular expression compiled on first use (most rules and schema patterns are never reached
/// on a given template, and compiling is the costly part).
///
/// Literals with the same source share one compiled form for the whole process (the built-in
/// rules repeat many). An ASCII pattern matched against an ASCII string runs on `regex-lite`,
/// which compiles some ten times faster than the full engine and gives the same answer there:
/// Unicode classes and case folding only differ from their ASCII forms on non-ASCII text. Any
/// other case (non-ASCII text or pattern, look-around, backreferences, `\p{..}`) runs on
/// fancy-regex, cfn-guard's own engine.
#[derive(Debug, Clone)]
pub struct Rx {
    pub source: String,
    compiled: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    ascii: bool,
    lite: OnceLock<Option<regex_lite::Regex>>,
    full: OnceLock<Option<fancy_regex::Regex>>,
}

impl Rx {
    /// A regex in Rust `regex` / fancy-regex syntax. An invalid one never matches: check the
    /// syntax first where a user wrote it (the Guard parser does, with a located error).
    pub fn new(source: &str) -> Self {
        static SHARED: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();
        let mut shared = SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let compiled = shared
            .entry(source.to_string())
            .or_insert_with(|| {
                Arc::new(Compiled {
                    ascii: source.is_ascii(),
                    lite: OnceLock::new(),
                    full: OnceLock::new(),
                })
            })
            .clone();
        Rx {
            source: source.to_string(),
            compiled,
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        let c = &self.compiled;
        if c.ascii
            && s.is_ascii()
            && let Some(re) = c.lite.get_or_init(|| regex_lite::Regex::new(&self.source).ok())
        {
            return re.is_match(s);
        }
        self.is_match_full(s)
    }

    /// Whether the full engine accepts the source.
    pub fn compiles(&self) -> bool {
        self.compiled
            .full
            .get_or_init(|| fancy_regex::Regex::new(&self.source).ok())
            .is_some()
    }

    /// The match by fancy-regex alone (what cfn-guard runs).
    pub fn is_match_full(&self, s: &str) -> bool {
        self.compiled
            .full
            .get_or_init(|| fancy_regex::Regex::new(&self.source).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(s).unwrap_or(false))
    }
}
