#!/usr/bin/env bash
# The SIMD identity tests on emulated AVX-512 CPUs, for hosts without
# AVX-512 (the Zen 3 machines of 2026-11-29 have AVX2 only). Slow: about
# 3 minutes of boot and 5-10 minutes of tests under Bochs. Not part of CI,
# which runs the same tests natively wherever the CPU has AVX-512.
#
#   scripts/avx512-emulated/simd-tests.sh [corei7_skylake_x]
#
# 1. installs Bochs 2.7 and what a boot image needs (Debian packages) and
#    takes Debian 12's kernel from its package;
# 2. builds artel_tests into build/avx512-emulated with -ffixed-xmm16 ...
#    -ffixed-xmm31: Bochs 2.7 raises #UD on a gather whose index register is
#    zmm16-31 (vpgatherqq (%rdx,%zmm21,8) in pass B; the same gather with
#    zmm8 runs), so the compiler is kept off the upper 16 registers. The code
#    is otherwise the release build's;
# 3. boots a kernel with the binary in its initramfs on Bochs's CPU model
#    (corei7_skylake_x: AVX-512 F/CD/BW/DQ/VL, Highway's avx3) and runs the
#    identity tests, each comparing every target the CPU has with the scalar
#    reference kernel. Bochs's tigerlake model (avx3_dl) does not boot this
#    kernel (it hangs after "LSM: Security Framework initializing").
# Exits with the tests' status (124: timeout, 125: no result seen).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
model="${1:-corei7_skylake_x}"
out="$repo/build/avx512-emulated"
mkdir -p "$out"

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
"$repo/scripts/setup.sh"
pkgs=(bochs bochs-term bochsbios vgabios isolinux syslinux-common xorriso busybox-static tmux cpio)
missing=(); for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -e "$out/kernel/vmlinuz" ]; then  # Debian 12's kernel, from its package (not installed)
  kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
  tmp="$(mktemp -d)"; (cd "$tmp" && apt-get download "$kpkg" >/dev/null 2>&1 && dpkg -x ./*.deb x)
  mkdir -p "$out/kernel"; cp "$tmp"/x/boot/vmlinuz-* "$out/kernel/vmlinuz"; rm -rf "$tmp"
fi

flags=""; for i in $(seq 16 31); do flags="$flags -ffixed-xmm$i"; done
cmake -S "$repo" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DARTEL_BUILD_BENCH=OFF \
  "-DCMAKE_CXX_FLAGS=$flags" >/dev/null
cmake --build "$out/build" -j"$(nproc)" --target artel_tests
if objdump -d --no-show-raw-insn "$out/build/tests/artel_tests" | grep -qE '[xyz]mm(1[6-9]|2[0-9]|3[01])\b'; then
  echo "artel_tests uses xmm16-31 after all: Bochs would fault on its gathers" >&2; exit 1
fi

seq="$out/simd-tests.seq"
cat > "$seq" <<'SEQ'
'SIMD targets: names\, choice and errors' --use-colour no
'Philox lanes reproduce the Random123 known-answer vectors on every target' --use-colour no
'Philox lanes match the scalar Philox and named streams on every target' --use-colour no
'init_block_simd is bit-identical to init_block on every target' --use-colour no
'step_year_simd handles odd block shapes on every target' --use-colour no
'the eldest child comes of age whenever every adult dies' --use-colour no
'the identity tests reach the kernel'"'"'s rare paths' --use-colour no
'step_year_simd is bit-identical to step_year on every target' --use-colour no
'detmath lanes are bit-identical to scalar detmath on every target' --use-colour no
SEQ
SEQ_FILE="$seq" EXTRA_PATHS="$repo/tests/data" RUNS="$out/runs" KERNEL="$out/kernel/vmlinuz" \
  "$here/run.sh" "$out/build/tests/artel_tests" "$model"
