// SPDX-License-Identifier: MIT
//! Generate the bindings from the installed (or just built) header.
//!
//! The library is found with pkg-config. To use a build tree instead of an
//! installed copy, put a `libsevmig-uninstalled.pc` in PKG_CONFIG_PATH:
//! pkg-config prefers it (the test in tests/rust does exactly that).

use std::collections::HashSet;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use bindgen::callbacks::{IntKind, ParseCallbacks};

/// bindgen types an integer macro by its value (u32 when it fits), not by its
/// suffix, so `(1ULL << 0)` would arrive as u32. The header writes every
/// 64-bit constant with ULL: those names are typed u64 here.
#[derive(Debug)]
struct Ull64(HashSet<String>);

impl ParseCallbacks for Ull64 {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        if self.0.contains(name) {
            Some(IntKind::U64)
        } else {
            None
        }
    }
}

/// The names of `#define NAME value` lines whose value has a ULL literal.
fn ull_macros(header: &Path, names: &mut HashSet<String>) {
    let text = fs::read_to_string(header)
        .unwrap_or_else(|e| panic!("reading {}: {}", header.display(), e));
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#define") {
            continue;
        }
        let name = match words.next() {
            Some(n) if !n.contains('(') => n,
            _ => continue,
        };
        // The value up to a comment; a ULL literal is a token that starts
        // with a digit and ends in ULL (1ULL, 0x10ull).
        let value: String = words.collect::<Vec<_>>().join(" ");
        let value = value.split("/*").next().unwrap_or("");
        let value = value.split("//").next().unwrap_or("");
        let has_ull = value
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| {
                t.starts_with(|c: char| c.is_ascii_digit())
                    && t.to_ascii_uppercase().ends_with("ULL")
            });
        if has_ull {
            names.insert(name.to_string());
        }
    }
}

fn main() {
    let lib = pkg_config::Config::new()
        .atleast_version("0.1.0")
        .probe("libsevmig")
        .unwrap_or_else(|e| {
            panic!(
                "libsevmig was not found by pkg-config ({}). Install \
                 libsevmig-dev, or point PKG_CONFIG_PATH at a folder with \
                 libsevmig.pc (or libsevmig-uninstalled.pc for a build tree).",
                e
            )
        });

    // The folder that holds sevmig/common.h, and every header beside it.
    let inc = lib
        .include_paths
        .iter()
        .find(|p| p.join("sevmig/common.h").is_file())
        .expect("no include path of libsevmig holds sevmig/common.h");
    let mut ull = HashSet::new();
    let mut headers: Vec<PathBuf> = fs::read_dir(inc.join("sevmig"))
        .expect("reading the sevmig include folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map_or(false, |x| x == "h"))
        .collect();
    headers.sort();
    for h in &headers {
        println!("cargo:rerun-if-changed={}", h.display());
        ull_macros(h, &mut ull);
    }
    assert!(
        ull.contains("SEVMIG_TRACKER_MAX_GFN"),
        "the ULL scan found no 64-bit constant: header format changed?"
    );
    println!("cargo:rerun-if-changed=wrapper.h");

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(
            lib.include_paths
                .iter()
                .map(|p| format!("-I{}", p.display())),
        )
        .allowlist_function("sevmig_.*")
        .allowlist_type("sevmig_.*")
        .allowlist_var("SEVMIG_.*")
        .prepend_enum_name(false)
        .size_t_is_usize(true)
        .derive_default(true)
        .layout_tests(true)
        .parse_callbacks(Box::new(Ull64(ull)))
        .generate()
        .expect("bindgen could not generate the libsevmig bindings");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings
        .write_to_file(&out)
        .unwrap_or_else(|e| panic!("writing {}: {}", out.display(), e));
    // Where the headers are, for crates that bind headers including ours
    // (sevmig-sim-sys reads it as DEP_SEVMIG_INCLUDE).
    println!("cargo:include={}", inc.display());
}
