#!/usr/bin/env bash
# Builds the package deploy/template.yaml deploys: the `bootstrap` binary (--features lambda)
# for the provided.al2023 runtime on x86_64 (the template's Architectures), zipped with
# `bootstrap` at the root as target/lambda/bootstrap.zip (under $CARGO_TARGET_DIR when set).
#
#   deploy/build-lambda.sh [--target TRIPLE]
#
# TRIPLE defaults to x86_64-unknown-linux-gnu. Amazon Linux 2023 has glibc 2.34: a gnu build
# made on a newer glibc can need symbols AL2023 lacks, so the script reads the binary's glibc
# symbol versions and refuses a package that would not start there. On such a machine use
#   --target x86_64-unknown-linux-musl   (a static binary; needs `rustup target add` and a C
#                                         compiler for musl, e.g. Debian's musl-tools)
# or build on Amazon Linux 2023 itself. Needs cargo (crates.io), and zip or python3.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a triple}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-lambda.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done

fail() { echo "build-lambda.sh: $*" >&2; exit 1; }

case "$target" in
  x86_64-*-linux-*) ;;
  aarch64-*-linux-*) echo "note: set Architectures: [arm64] on the three functions in deploy/template.yaml" ;;
  *) fail "$target is not a Linux target; Lambda's provided.al2023 runs x86_64 or aarch64 Linux" ;;
esac

host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/$target/lib" ]; then
  fail "the Rust standard library for $target is not installed in $sysroot.
  Install it with: rustup target add $target
  (rustup downloads it from the Rust project's servers; where those cannot be reached, build on
  an x86_64 Linux machine with glibc 2.34 or older, such as Amazon Linux 2023, with the default
  target instead)"
fi
if [[ "$target" == *-musl ]] && [ "$host" != "$target" ] && ! command -v musl-gcc >/dev/null 2>&1 \
  && [ -z "${CC:-}" ]; then
  fail "$target needs a C compiler for musl (SQLite and aws-lc are C): install musl-gcc
  (Debian/Ubuntu: apt-get install musl-tools) or set CC"
fi

# The host's own target builds without --target, into target/release, so it shares the compiled
# dependencies of an ordinary `cargo build --release`.
tdir=${CARGO_TARGET_DIR:-target}
if [ "$target" = "$host" ]; then
  cargo build --release --locked --features lambda --bin bootstrap
  bin=$tdir/release/bootstrap
else
  cargo build --release --locked --features lambda --bin bootstrap --target "$target"
  bin=$tdir/$target/release/bootstrap
fi

if [[ "$target" == *-gnu ]]; then
  command -v objdump >/dev/null 2>&1 \
    || fail "objdump (binutils) is needed to check the binary's glibc symbol versions"
  newest=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
  if [ -n "$newest" ] && [ "$(printf '%s\n2.34\n' "$newest" | sort -V | tail -n 1)" != "2.34" ]; then
    fail "$bin needs glibc $newest, newer than Amazon Linux 2023's 2.34: it would not start on
  provided.al2023. Build with --target x86_64-unknown-linux-musl, or on Amazon Linux 2023."
  fi
  echo "glibc symbols: newest $newest (provided.al2023 has 2.34)"
fi

out=$tdir/lambda
stage=$out/stage
rm -rf "$stage" "$out/bootstrap.zip"
mkdir -p "$stage"
install -m 755 "$bin" "$stage/bootstrap"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -q -X ../bootstrap.zip bootstrap)
else
  # Python's zipfile keeps the executable bit that Lambda needs.
  (cd "$stage" && python3 -m zipfile -c ../bootstrap.zip bootstrap)
fi
rm -rf "$stage"
echo "wrote $out/bootstrap.zip ($(stat -c %s "$out/bootstrap.zip") bytes) for $target"
echo "next: aws s3 cp $out/bootstrap.zip s3://BUCKET/watchband/bootstrap.zip (the template's CodeKey)"
