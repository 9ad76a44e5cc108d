#!/bin/sh
# kiez under valgrind memcheck, for the valgrind/* tests (tests/CMakeLists.txt,
# `make check-valgrind`): run_case.py calls this script in place of kiez.
# A memcheck error or a definite leak exits 97, a code no case expects, so
# the case fails (--error-exitcode=1 would pass unnoticed in the cases that
# expect exit 1). Suppressions: tests/valgrind.supp (third-party only).
here=$(dirname "$0")
exec "${KZ_VALGRIND_EXE:-valgrind}" -q --tool=memcheck --error-exitcode=97 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-origins=no --num-callers=30 \
    --suppressions="$here/valgrind.supp" \
    "${KZ_VALGRIND_KIEZ:?KZ_VALGRIND_KIEZ names the kiez binary}" "$@"
