// Differential test: the vendored string_literal against hcl-edit 0.10.0 from crates.io.
fn main() {
    let alphabet: Vec<&str> = vec!["\"", "\\", "$", "%", "{", "}", "a", " ", "\\n", "\\u00e9", "é", "$${", "%%{", "${x}", "%{ if true }y%{ endif }", "\n", "\\\"", "$$", "%%"];
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; seed };
    let (mut same, mut ok) = (0u64, 0u64);
    for _ in 0..300_000 {
        let len = (next() % 8) as usize;
        let mut s = String::new();
        for _ in 0..len { s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]); }
        for text in [format!("a = \"{s}\"\n"), format!("a = <<EOT\n{s}\nEOT\n"), format!("a = \"{s}\"\nb = \"x{s}y\" \n")] {
            let o = orig::parser::parse_body(&text);
            let n = new::parser::parse_body(&text);
            let (o, n) = (o.map(|b| format!("{b}|{:?}", b.iter().map(|s| format!("{:?}", s.as_attribute().map(|a| a.value.to_string()))).collect::<Vec<_>>())).map_err(|e| e.to_string()),
                          n.map(|b| format!("{b}|{:?}", b.iter().map(|s| format!("{:?}", s.as_attribute().map(|a| a.value.to_string()))).collect::<Vec<_>>())).map_err(|e| e.to_string()));
            if o != n { eprintln!("DIFF for {text:?}\n orig {o:?}\n new  {n:?}"); std::process::exit(1); }
            same += 1; ok += o.is_ok() as u64;
        }
    }
    println!("{same} inputs agree ({ok} parse)");
}
