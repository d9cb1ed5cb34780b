#!/bin/sh
# Compiler launcher of the thread_safety_check target (tests/fuzz/CMakeLists.txt): runs the
# compile command it is given, which has -fsyntax-only and so writes no object file, then
# creates that object file empty, so that the build sees the source as checked and does not
# check it again until it or a header it includes changes.
out=
prev=
for arg in "$@"; do
  [ "$prev" = "-o" ] && out=$arg
  prev=$arg
done
"$@" && : >"$out"
