use crate::error::{Error, Exit};

/// Prints the config file's JSON Schema.
pub fn run() -> Result<Exit, Error> {
    let text = serde_json::to_string_pretty(&crate::config::json_schema()).unwrap_or_default();
    println!("{text}");
    Ok(Exit::Ok)
}
