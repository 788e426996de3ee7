use std::time::Instant;
fn main() {
    let mut srcs: Vec<String> = vec![];
    for e in std::fs::read_dir("rules").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "guard") {
            let t = std::fs::read_to_string(&p).unwrap();
            for l in t.lines() {
                let l = l.trim();
                if l.starts_with('#') { continue; }
                // crude: find /.../ tokens after operators
                let mut rest = l;
                while let Some(i) = rest.find(" /") {
                    let after = &rest[i + 2..];
                    if let Some(j) = after.find("/ ").or_else(|| if after.ends_with('/') { Some(after.len() - 1) } else { None }) {
                        srcs.push(after[..j].to_string());
                        rest = &after[j + 1..];
                    } else { break; }
                }
            }
        }
    }
    let total = srcs.len();
    srcs.sort(); srcs.dedup();
    println!("{total} regex literals, {} distinct", srcs.len());
    let t = Instant::now();
    let mut ok = 0;
    for s in &srcs { if fancy_regex::Regex::new(s).is_ok() { ok += 1; } }
    println!("fancy unicode: {:?} ({ok} ok)", t.elapsed());
    let t = Instant::now();
    let mut ok = 0;
    for s in &srcs { if regex::bytes::RegexBuilder::new(s).unicode(false).build().is_ok() { ok += 1; } }
    println!("bytes ascii: {:?} ({ok} ok)", t.elapsed());
    let t = Instant::now();
    let mut ok = 0;
    for s in &srcs { if regex::RegexBuilder::new(s).build().is_ok() { ok += 1; } }
    println!("regex unicode: {:?} ({ok} ok)", t.elapsed());
    let t = Instant::now();
    let mut ok = 0;
    for s in &srcs { if regex_lite::Regex::new(s).is_ok() { ok += 1; } }
    println!("regex-lite: {:?} ({ok} ok)", t.elapsed());
    let t = Instant::now();
    let mut ok = 0;
    for s in &srcs { if regex::bytes::RegexBuilder::new(s).unicode(false).build().is_ok() { ok += 1; } }
    println!("bytes ascii again: {:?} ({ok} ok)", t.elapsed());
    let mut worst: Vec<(std::time::Duration, &String)> = srcs.iter().map(|s| { let t = Instant::now(); let _ = fancy_regex::Regex::new(s); (t.elapsed(), s) }).collect();
    worst.sort(); worst.reverse();
    for (d, s) in worst.iter().take(5) { println!("{d:?} {}", &s[..s.len().min(80)]); }
}
