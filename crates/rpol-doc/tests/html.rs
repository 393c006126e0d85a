//! The HTML sheet: escaped, self-contained, and rendered by headless
//! Chromium with the matrix intact. The Chromium tests skip (saying so)
//! when no `chromium` is installed, unless `RPOL_REQUIRE_CHROMIUM=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rpol_doc::Sheet;

/// `chromium` or `chromium-browser` on PATH; `None` skips a test (a failure
/// under `RPOL_REQUIRE_CHROMIUM=1`).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("RPOL_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "RPOL_REQUIRE_CHROMIUM=1 but no `chromium` on PATH (apt-get install chromium)"
        );
        eprintln!("SKIPPED: no `chromium` on PATH; install Debian's `chromium` to run this test");
    }
    found
}

/// The DOM Chromium builds from `file`, serialized.
fn dump_dom(browser: &Path, file: &Path) -> String {
    let profile = tempdir("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// A fresh directory per call (tests run in parallel, each Chromium needs
/// its own profile).
fn tempdir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rpol-doc-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The value of `data-NAME="…"` in a serialized tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("data-{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Every matrix cell of a serialized DOM: (feature, mode, purpose, outcomes).
fn dom_cells(dom: &str) -> Vec<(String, String, String, String)> {
    dom.split("<td")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            Some((
                attr(tag, "feature")?,
                attr(tag, "mode")?,
                attr(tag, "purpose")?,
                attr(tag, "outcomes")?,
            ))
        })
        .collect()
}

/// The outcomes of a cell as the HTML writes them.
fn outcomes(cell: &rpol_doc::Cell) -> String {
    cell.outcomes
        .iter()
        .map(|o| match o.key.rule {
            Some(r) => format!("{}:{}", o.key.code, Sheet::rule_label(r)),
            None => o.key.code.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn chromium_renders_the_matrix_of_home() {
    let Some(browser) = chromium() else { return };
    let (sheet, _) = common::sheet(&common::root().join("policies/home"), "policies/home");
    let dir = tempdir("home");
    let file = dir.join("review.html");
    std::fs::write(&file, rpol_doc::html::render(&sheet)).expect("write");
    let dom = dump_dom(&browser, &file);
    let cells = dom_cells(&dom);
    let mut expected = Vec::new();
    for (mi, m) in sheet.modes.iter().enumerate() {
        for (fi, f) in sheet.features.iter().enumerate() {
            for (pi, p) in sheet.purposes.iter().enumerate() {
                expected.push((
                    f.name.clone(),
                    m.name.clone(),
                    p.clone(),
                    outcomes(&sheet.matrix.features[fi][mi][pi]),
                ));
            }
        }
    }
    assert_eq!(
        cells, expected,
        "the rendered matrix differs from the sheet"
    );
    // Chromium built the tables (the parser kept every row) and the text reads.
    assert!(dom.contains("<h1>Privacy review: <code>home_feed</code>"));
    assert!(dom.contains("✓ <code>allowed</code>"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of `policies/home` whose texts try to inject markup.
fn hostile_home() -> PathBuf {
    let dir = tempdir("hostile");
    let src = common::root().join("policies");
    std::fs::create_dir_all(dir.join("home")).expect("dir");
    for name in ["home.rpol", "tests.rpol", "coverage.rpol"] {
        let mut text = std::fs::read_to_string(src.join("home").join(name)).expect("read");
        if name == "home.rpol" {
            text = text
                .replace(
                    "\"Picked by our editors\"",
                    "\"Picked <script>alert(1)</script> by `our` | editors\"",
                )
                .replace(
                    "\"these tenants' contracts exclude cross-user embeddings\"",
                    "\"</td><img src=x onerror=alert(2)> onmouseover='alert(3)'\"",
                )
                .replace("[\"bank_a\", \"clinic_b\"]", "[\"bank_a\", \"<b>x</b>\"]");
        }
        std::fs::write(dir.join("home").join(name), text).expect("write");
    }
    let reg = std::fs::read_to_string(src.join("features.yaml"))
        .expect("registry")
        .replace(
            "\"Sensitive inference: kept out of ads and out of reasons.\"",
            "\"<iframe src='https://example.com'></iframe> [x](javascript:alert(4))\"",
        );
    std::fs::write(dir.join("features.yaml"), reg).expect("write");
    dir.join("home")
}

#[test]
fn hostile_texts_are_escaped_in_html_and_markdown() {
    let path = hostile_home();
    let (sheet, _) = common::sheet(&path, "hostile/home");
    let html = rpol_doc::html::render(&sheet);
    for bad in ["<script", "<img", "<iframe", "<b>", "onmouseover='"] {
        assert!(!html.contains(bad), "`{bad}` reached the HTML");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;iframe src=&#39;https://example.com&#39;&gt;"));
    // No script can run and nothing is fetched, whatever the text.
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("http://") && !html.contains("src=\""));
    let md = rpol_doc::markdown::render(&sheet);
    // Inside code spans Markdown shows text as it is; outside them no markup
    // may remain.
    let outside: String = md.split('`').step_by(2).collect();
    for bad in ["<", "[x](javascript"] {
        assert!(
            !outside.contains(bad),
            "`{bad}` reached the Markdown outside code"
        );
    }
    assert!(outside.contains("\\[x\\](javascript:alert(4))"));
    assert!(md.contains("`forbid source user_two_tower when tenant in [\"bank_a\", \"<b>x</b>\"]"));
    assert!(md.contains("Picked &lt;script&gt;alert(1)&lt;/script&gt; by 'our' \\| editors"));
    if let Some(browser) = chromium() {
        let file = path.with_file_name("review.html");
        std::fs::write(&file, &html).expect("write");
        let dom = dump_dom(&browser, &file);
        for tag in ["<script", "<img", "<iframe", "<b>"] {
            assert!(!dom.contains(tag), "Chromium built a `{tag}` element");
        }
        assert!(dom.contains("Picked &lt;script&gt;alert(1)&lt;/script&gt; by 'our' | editors"));
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}
