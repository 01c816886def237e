#!/bin/sh
# test_install.sh — libstint-codec installs with its pkg-config file and CMake package, and a
# program outside the tree links against it both ways.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -eu
BUILD=$1
SRC=$2
CC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
mkdir -p "$TMP/app"
cat >"$TMP/app/main.c" <<'C'
#include <stdio.h>
#include <stint/stint.h>
int main(void)
{
    static struct stint_batch head;
    struct stint_buf out = {0};
    stint_batch_clear(&head);
    stint_batch_set_version(&head, "9.9", 3);
    if (stint_pb_encode_batch(&head, NULL, &out) != STINT_OK || out.len != 5)
        return 1;
    stint_buf_free(&out);
    puts("linked");
    return 0;
}
C
# pkg-config
PKG_CONFIG_PATH="$TMP/prefix/lib/pkgconfig:$TMP/prefix/lib/x86_64-linux-gnu/pkgconfig"
export PKG_CONFIG_PATH
"$CC" -o "$TMP/app/pc" "$TMP/app/main.c" $(pkg-config --cflags --libs --static stint-codec)
"$TMP/app/pc" | grep -q linked
# CMake package
cat >"$TMP/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(stint-codec REQUIRED)
add_executable(cm main.c)
target_link_libraries(cm PRIVATE stint::codec)
CM
cmake -S "$TMP/app" -B "$TMP/app/build" -DCMAKE_C_COMPILER="$CC" \
      -DCMAKE_PREFIX_PATH="$TMP/prefix" >/dev/null
cmake --build "$TMP/app/build" >/dev/null
"$TMP/app/build/cm" | grep -q linked
echo "install: pkg-config and CMake consumers link and run"
