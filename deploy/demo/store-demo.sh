#!/usr/bin/env bash
# Store demo: what a node does with every media file it receives, shown with the operator's
# commands. Usage: store-demo.sh TIERSYNC_BINARY OUT_DIR
set -euo pipefail
bin="$1"
out="$2"
rm -rf "$out"
mkdir -p "$out"
# shellcheck source=deploy/demo/lib.sh
source "$(dirname "$0")/lib.sh"

step "Generate sample lesson media (a 256 MiB video-like file and a 32 MiB e-textbook-like text)"
run "$bin" demo media "$out/lesson-video.mp4" --kind media --size 256M --seed 1
run "$bin" demo media "$out/textbook.txt" --kind text --size 32M --seed 2

step "Create a chunk store and add both files (each prints its chunk-index id)"
run "$bin" store init "$out/store"
added=$(run "$bin" store add -s "$out/store" "$out/lesson-video.mp4")
printf '%s\n' "$added"
video_id=${added%% *}
[ ${#video_id} -eq 64 ] || { echo "could not read the video's id" >&2; exit 1; }
run "$bin" store add -s "$out/store" "$out/textbook.txt"

step "Add a revised video: 1 MiB of new footage inserted in the middle (only new chunks are stored)"
head -c 128M "$out/lesson-video.mp4" > "$out/lesson-video-v2.mp4"
"$bin" demo media "$out/insert.bin" --size 1M --seed 3 >/dev/null
cat "$out/insert.bin" >> "$out/lesson-video-v2.mp4"
tail -c +$((128 * 1024 * 1024 + 1)) "$out/lesson-video.mp4" >> "$out/lesson-video-v2.mp4"
run "$bin" --json store add -s "$out/store" "$out/lesson-video-v2.mp4"

step "Store statistics"
run "$bin" store stats -s "$out/store"

step "Restore the video from its chunks and compare with the original"
run "$bin" store cat -s "$out/store" "$video_id" -o "$out/restored.mp4"
run openssl dgst -sha256 "$out/lesson-video.mp4" "$out/restored.mp4"
cmp "$out/lesson-video.mp4" "$out/restored.mp4" && echo "identical"

step "Verify every chunk (SHA-256 of every byte stored)"
run "$bin" store verify -s "$out/store"

step "Simulate bit rot: flip one byte inside the first pack, then verify and restore again"
printf '\x5a' | dd of="$out/store/packs/pack-00000001.tsp" bs=1 seek=5000000 conv=notrunc status=none
set +e
run "$bin" store verify -s "$out/store"; echo "(exit code $?)"
run "$bin" store cat -s "$out/store" "$video_id" -o "$out/restored-again.mp4"; echo "(exit code $?)"
set -e
[ ! -e "$out/restored-again.mp4" ] && echo "no damaged output was written"

printf '\nDemo finished. Everything is in %s; nothing is left running.\n' "$out"
