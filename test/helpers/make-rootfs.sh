#!/bin/sh
# Build a minimal rootfs from Debian's busybox-static: busybox and its
# applet links, /etc/passwd and /etc/group, and empty mount points.
set -eu
dest=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-static is not installed" >&2; exit 1; }
tmp=$(mktemp -d "$(dirname "$dest")/.rootfs.XXXXXX")
mkdir -p "$tmp/bin" "$tmp/sbin" "$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/etc" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/tmp" "$tmp/root" "$tmp/home"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$tmp/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$tmp/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\n' > "$tmp/etc/group"
chmod 1777 "$tmp/tmp"
# mktemp made it 0700; a container in a user namespace must be able to enter it
chmod 755 "$tmp"
rm -rf "$dest"
mv "$tmp" "$dest"
