use std::time::Instant;
fn strip(v: &mut serde_json::Value, key: &str) {
    match v {
        serde_json::Value::Object(m) => { m.shift_remove(key); for (_, c) in m.iter_mut() { strip(c, key) } }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|c| strip(c, key)),
        _ => {}
    }
}
fn main() {
    let t = Instant::now();
    let vals: Vec<serde_json::Value> = kiro_infra::validate::schema::VENDORED.iter().map(|(_, t)| serde_json::from_str(t).unwrap()).collect();
    println!("parse: {:?}", t.elapsed());
    let t = Instant::now();
    for v in &vals { let _ = jsonschema::options().with_draft(jsonschema::Draft::Draft7).should_validate_formats(false).build(v); }
    println!("compile plain: {:?}", t.elapsed());
    let mut nop = vals.clone();
    for v in &mut nop { strip(v, "pattern"); }
    let t = Instant::now();
    for v in &nop { let _ = jsonschema::options().with_draft(jsonschema::Draft::Draft7).should_validate_formats(false).build(v); }
    println!("compile no patterns: {:?}", t.elapsed());
    for v in &mut nop { strip(v, "description"); }
    let t = Instant::now();
    for v in &nop { let _ = jsonschema::options().with_draft(jsonschema::Draft::Draft7).should_validate_formats(false).build(v); }
    println!("compile no patterns/desc: {:?}", t.elapsed());
    let t = Instant::now();
    for (name, _) in kiro_infra::validate::schema::VENDORED { let _ = kiro_infra::validate::schema::schema_for(name).unwrap().validator(); }
    println!("ours: {:?}", t.elapsed());
}
