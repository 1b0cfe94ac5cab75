#!/bin/bash
# Usage: KERNEL=vmlinuz [SEQ_FILE=f] [EXTRA_PATHS='/abs/dir ...'] build-iso.sh <out.iso> <binary> [test-args...]
# Builds a bootable isolinux ISO: $KERNEL + initramfs (busybox-static,
# the binary as /work/<name>, its ldd libraries, /init = init.sh, /run-tests.sh running the binary with the args).
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1"); bin=$(realpath "$2"); shift 2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root; iso=$stage/iso
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,work,lib64,lib/x86_64-linux-gnu,usr/lib/x86_64-linux-gnu} "$iso/isolinux"
cp /bin/busybox "$root/bin/busybox"
cp "$H/init.sh" "$root/init"; chmod +x "$root/init"
name=$(basename "$bin")
cp "$bin" "$root/work/$name"
# extra host files/dirs copied to the same absolute path (EXTRA_PATHS, space-separated), e.g. test data
for x in ${EXTRA_PATHS:-}; do mkdir -p "$root$(dirname "$x")"; cp -a "$x" "$root$(dirname "$x")/"; done
# shared libraries (dereferenced) + dynamic loader
ldd "$bin" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | while read -r lib; do
  case "$lib" in
    /lib64/*) cp -L "$lib" "$root/lib64/" ;;
    *) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
  esac
done
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
# run-tests.sh: the binary with the args (safely single-quoted); or, if SEQ_FILE is set, one run per
# non-empty line of SEQ_FILE (the line is shell words appended to the binary, e.g. "'name' --durations yes";
# a line starting with ! is a whole command instead, e.g. "!/bin/sh -c ...").
{
  echo 'export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu LD_BIND_NOW=1'
  if [ -n "${SEQ_FILE:-}" ]; then
    echo 'worst=0'
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      printf 'echo "=== AVX512HARNESS RUN BEGIN: %s"\n' "$(printf '%s' "$line" | tr -d '"$`\\')"
      case "$line" in '!'*) printf '%s\n' "${line#!}" ;; *) printf '/work/%s %s\n' "$name" "$line" ;; esac
      echo 'r=$?; echo "=== AVX512HARNESS RUN END rc=$r uptime=$(cat /proc/uptime)"; [ $r -ne 0 ] && worst=$r'
    done < "$SEQ_FILE"
    echo 'exit $worst'
  else
    printf '%s' "/work/$name"
    for a in "$@"; do printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"; done
    echo
  fi
} > "$root/run-tests.sh"
echo "--- run-tests.sh:"; cat "$root/run-tests.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$iso/initrd.gz"
cp "${KERNEL:?KERNEL: the path of a vmlinuz}" "$iso/vmlinuz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
sed "/^  append /s|\$| ${KERNEL_EXTRA:-}|" "$H/isolinux.cfg" > "$iso/isolinux/isolinux.cfg"  # KERNEL_EXTRA: more kernel args
xorriso -as mkisofs -quiet -o "$out" -b isolinux/isolinux.bin -c isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table -R -J "$iso" 2>&1 | grep -v '^xorriso : NOTE' || true
ls -la "$out"
