// SPDX-License-Identifier: MIT
//! Bindings for <sevmig/sim.h>. The libsevmig types it uses (struct
//! sevmig_sys_ops, the context) come from libsevmig-sys, not generated twice.

use std::env;
use std::path::PathBuf;

fn main() {
    let lib = pkg_config::Config::new()
        .atleast_version("0.1.0")
        .probe("libsevmig-sim")
        .unwrap_or_else(|e| {
            panic!(
                "libsevmig-sim was not found by pkg-config ({}). Install \
                 libsevmig-sim-dev, or point PKG_CONFIG_PATH at a folder \
                 with libsevmig-sim.pc (or -uninstalled.pc for a build tree).",
                e
            )
        });
    for p in &lib.include_paths {
        let h = p.join("sevmig/sim.h");
        if h.is_file() {
            println!("cargo:rerun-if-changed={}", h.display());
        }
    }
    println!("cargo:rerun-if-changed=wrapper.h");

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(
            lib.include_paths
                .iter()
                .map(|p| format!("-I{}", p.display())),
        )
        .allowlist_function("sevmig_sim_.*")
        .allowlist_type("sevmig_sim_.*")
        .allowlist_var("SEVMIG_SIM_.*")
        .blocklist_type("sevmig_sys_ops")
        .raw_line("use libsevmig_sys::sevmig_sys_ops;")
        .prepend_enum_name(false)
        .size_t_is_usize(true)
        .derive_default(true)
        .layout_tests(true)
        .generate()
        .expect("bindgen could not generate the libsevmig-sim bindings");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings
        .write_to_file(&out)
        .unwrap_or_else(|e| panic!("writing {}: {}", out.display(), e));
}
