#!/bin/busybox sh
# /init of the test initramfs: mount, show CPU flags, run /run-tests.sh, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /tmp && { [ -n "$(ls -A /tmp)" ] || mount -t tmpfs tmp /tmp; }
exec >/dev/ttyS0 2>&1 </dev/null
echo "=== AVX512HARNESS GUEST UP $(cat /proc/uptime)"
echo "=== model name: $(grep -m1 'model name' /proc/cpuinfo)"
echo "=== flags: $(grep -m1 '^flags' /proc/cpuinfo)"
for f in avx2 avx512f avx512cd avx512bw avx512dq avx512vl avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg avx512_vpopcntdq gfni vaes vpclmulqdq; do
  if grep -m1 '^flags' /proc/cpuinfo | grep -qw "$f"; then echo "=== cpuflag $f: yes"; else echo "=== cpuflag $f: NO"; fi
done
cd /work
echo "=== AVX512HARNESS TESTS BEGIN"
sh /run-tests.sh
rc=$?
echo "=== AVX512HARNESS TESTS END rc=$rc uptime=$(cat /proc/uptime)"
sync; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done  # busy-wait so the serial tty drains before power-off (an idle sleep is very slow in bochs)
poweroff -f
sleep 5
echo o > /proc/sysrq-trigger
