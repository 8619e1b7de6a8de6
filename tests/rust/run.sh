#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the Rust bindings offline with Debian's rustc/cargo and packaged
# crates (/usr/share/cargo/registry), against this build tree's libraries,
# and run their tests. Skips (77) where that toolchain is not installed.
set -eu
crates=$1 dir=$2 build=$3

# Debian's toolchain, never another one that may be first on PATH (rustup):
# rustc, rustdoc and cargo must match each other.
export PATH="/usr/bin:$PATH"
cargo=/usr/bin/cargo
for t in /usr/bin/cargo /usr/bin/rustc /usr/bin/rustdoc; do
	[ -x "$t" ] || { echo "SKIP: $t not installed (apt-get install cargo)"; exit 77; }
done
for c in bindgen pkg-config libc; do
	ls -d /usr/share/cargo/registry/"$c"-[0-9]* >/dev/null 2>&1 || {
		echo "SKIP: crate $c not packaged here (apt-get install librust-$c-dev)"
		exit 77
	}
done
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc

# Work on a copy so the source tree gets no Cargo.lock or target/; cargo
# reads only the crates' own .cargo/config.toml (Debian's registry, offline)
# and an empty CARGO_HOME, never a user's cargo configuration.
rm -rf "$dir/crates"
mkdir -p "$dir/crates" "$dir/cargo-home"
(cd "$crates" && tar cf - --exclude=./target --exclude=./Cargo.lock .) |
	(cd "$dir/crates" && tar xf -)
export CARGO_HOME="$dir/cargo-home"
export CARGO_TARGET_DIR="$dir/target"
export CARGO_BUILD_JOBS=2
export PKG_CONFIG_PATH="$dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$build/src:$build/src/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The bindings must come from this tree, not an installed libsevmig-dev.
[ "$(pkg-config --variable=libdir libsevmig)" = "$build/src" ] ||
	{ echo "pkg-config does not find the build tree's libsevmig"; exit 1; }

cd "$dir/crates"
"$cargo" --version
"$cargo" test --offline --workspace 2>&1
