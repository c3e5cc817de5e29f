//! Footprint: idle RSS and threads of a connected process, stripped size of
//! a minimal program, dependency counts, cold release build time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::stats;

/// `idle <ours|official> <hosts>` (child mode): connect, stay idle 3 s (a few
/// tend rounds), print `rss_kib threads baseline_rss_kib baseline_threads`.
pub fn idle_child(which: &str, hosts: &str) {
    let (rss0, th0) = stats::rss_and_threads();
    let seeds: Vec<String> = hosts.split(',').map(str::to_owned).collect();
    let keep: Box<dyn std::any::Any> = match which {
        "ours" => Box::new(
            aerospike_blocking::Client::connect(&seeds, &Default::default()).expect("connect"),
        ),
        _ => Box::new(
            aerospike::Client::new(&aerospike::ClientPolicy::default(), &hosts.to_owned())
                .expect("connect"),
        ),
    };
    std::thread::sleep(Duration::from_secs(3));
    let (rss, th) = stats::rss_and_threads();
    println!("{rss} {th} {rss0} {th0}");
    drop(keep);
}

/// Idle figures of one client, measured in a fresh child process.
pub struct Idle {
    pub rss_kib: u64,
    pub threads: u64,
    pub base_rss_kib: u64,
    pub base_threads: u64,
}

pub fn idle(which: &str, hosts: &str) -> Option<Idle> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args(["idle", which, hosts])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    (v.len() == 4).then(|| Idle {
        rss_kib: v[0],
        threads: v[1],
        base_rss_kib: v[2],
        base_threads: v[3],
    })
}

/// `(VmRSS KiB, Threads)` of the minimal program `bin` connected to `hosts`
/// and idle for 3 s.
pub fn idle_minimal(bin: &Path, hosts: &str) -> Option<(u64, u64)> {
    let out = Command::new(bin)
        .env("AEROSPIKE_HOSTS", hosts)
        .env("BENCH_IDLE_SECS", "3")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("Threads:")?))
}

/// Build figures of a minimal program.
pub struct Build {
    /// The stripped binary.
    pub bin: Option<PathBuf>,
    pub cold_build: Option<Duration>,
    pub stripped_bytes: Option<u64>,
    pub tree_lines: usize,
    pub tree_unique: usize,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Writes a one-binary cargo project for `which` under `dir` (a copy of
/// `bench/src/bin/minimal_<which>.rs` with only that client as dependency),
/// reusing the bench's Cargo.lock so versions match and `--offline` works.
fn project(bench_dir: &Path, dir: &Path, which: &str) -> std::io::Result<()> {
    let dep = if which == "ours" {
        format!(
            "aerospike-blocking = {{ path = {:?} }}",
            bench_dir
                .parent()
                .unwrap_or(bench_dir)
                .display()
                .to_string()
        )
    } else {
        r#"aerospike = { version = "3", default-features = false, features = ["sync", "serialization", "rt-tokio"] }"#
            .to_owned()
    };
    fs::create_dir_all(dir.join("src"))?;
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"minimal-{which}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\n{dep}\n\n[profile.release]\ndebug = false\n"
        ),
    )?;
    fs::copy(
        bench_dir.join(format!("src/bin/minimal_{which}.rs")),
        dir.join("src/main.rs"),
    )?;
    fs::copy(bench_dir.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    Ok(())
}

/// Cold release build (fresh target directory, dependencies already
/// downloaded), stripped size and `cargo tree` counts of the minimal program.
pub fn build(which: &str, cold: bool) -> Build {
    let bench_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = bench_dir.join("target/footprint").join(which);
    let _ = fs::remove_dir_all(&dir);
    let mut b = Build {
        bin: None,
        cold_build: None,
        stripped_bytes: None,
        tree_lines: 0,
        tree_unique: 0,
    };
    if let Err(e) = project(&bench_dir, &dir, which) {
        eprintln!("footprint: cannot write the {which} project: {e}");
        return b;
    }
    let manifest = dir.join("Cargo.toml");
    if let Ok(out) = Command::new(cargo())
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        b.tree_lines = lines.len();
        lines
            .iter_mut()
            .for_each(|l| *l = l.trim_end_matches(" (*)"));
        lines.sort_unstable();
        lines.dedup();
        b.tree_unique = lines.len();
    }
    if cold {
        let target = dir.join("target");
        let t = Instant::now();
        let ok = Command::new(cargo())
            .args([
                "build",
                "--release",
                "--offline",
                "--quiet",
                "--manifest-path",
            ])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("footprint: the {which} minimal build failed");
            return b;
        }
        b.cold_build = Some(t.elapsed());
        let bin = target.join(format!("release/minimal-{which}"));
        let stripped = dir.join(format!("minimal-{which}.stripped"));
        let ok = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&bin)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            b.stripped_bytes = fs::metadata(&stripped).ok().map(|m| m.len());
            b.bin = Some(stripped);
        }
    }
    b
}
