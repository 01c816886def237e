# Writes a copy of stint.proto whose `string` fields are `bytes`, for protobuf-c (codec/pb_ref.c
# says why: same wire format, but protobuf-c then hands over lengths instead of NUL-cut strings).
# Usage: cmake -DIN=stint.proto -DOUT=ref/stint.proto -P ref_proto.cmake
file(READ "${IN}" text)
string(REGEX REPLACE "([\n ])string ([a-z_]+ = [0-9]+;)" "\\1bytes \\2" text "${text}")
file(WRITE "${OUT}" "${text}")
