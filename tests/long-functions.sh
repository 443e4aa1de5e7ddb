#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Functions longer than 100 lines in controller/ and bpf/ (`make long-functions`). STYLE.md asks
# for none, except where a comment says why: the comment block right above such a function must
# hold a line "Long: <the reason>". Prints every function over the limit, marked "explained" or
# "UNEXPLAINED", and exits 1 when one is unexplained. Reads the source as text: a function is a
# line at column 0 ending a declaration, a "{" at column 0 and the next "}" at column 0 (the
# layout .clang-format gives).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 2
LIMIT=${LIMIT:-100}
awk -v LIM="$LIMIT" '
FNR == 1 { comment = ""; incomment = 0; decl = ""; prevdecl = "" }
/^\/\*/ { incomment = 1; comment = "" }
incomment { comment = comment "\n" $0; if ($0 ~ /\*\//) incomment = 0; next }
/^\{/ { if (decl != "") { start = FNR; name = decl; why = prevcomment } next }
/^\}/ {
	if (start) {
		len = FNR - start + 1
		if (len > LIM) {
			ok = why ~ /Long: /
			printf "%5d %s:%d %s%s\n", len, FILENAME, start, name, ok ? "  explained" : "  UNEXPLAINED"
			bad += !ok
		}
		start = 0
	}
	decl = ""; comment = ""; next
}
/^[A-Za-z_].*\(/ {
	d = $0; sub(/\(.*/, "", d); n = split(d, w, /[ *]+/); decl = w[n]; prevcomment = comment
	next
}
/^$/ { if (!start) comment = "" }
END { exit bad > 0 }
' controller/*/*.c bpf/*.c | sort -rn
