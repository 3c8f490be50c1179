#!/usr/bin/env bash
# ctest: quick
# The layers of docs/architecture.md hold in the build, not only in the tree:
#  1. no object of the pure libraries (libpl_base.a, libpl_core.a) refers to
#     an I/O, process, environment or clock call of libc, nor to libuv,
#     libcurl, libmicrohttpd, libgit2, libssh2 or libsystemd; each offence
#     is printed as "object: symbol";
#  2. no symbol they need is defined by an edge layer's library (io, git,
#     registry, service, engine, ctl): a pure module calling file_read would
#     otherwise only fail when a program is linked;
#  3. a pure source that includes an edge header does not compile: the
#     compile command of a real core (and base) file, from the build's
#     compile_commands.json, is run on a one-line file including uv.h,
#     curl/curl.h, microhttpd.h, git2.h, libssh2.h, systemd/sd-daemon.h,
#     and the edge layers' headers log.h, sysio.h, gitops.h, http.h.
set -euo pipefail
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

PURE=(base core)
EDGES=(io git registry service engine ctl)
for l in "${PURE[@]}" "${EDGES[@]}"; do
	[ -f "$BUILDDIR/libpl_$l.a" ] || { echo "FAIL: $BUILDDIR/libpl_$l.a is not built"; exit 1; }
done

# ---- 1. forbidden calls --------------------------------------------------
# libc calls that reach the outside world or the clock.  gmtime_r, timegm,
# snprintf and friends are pure conversions and stay allowed.  _FORTIFY_SOURCE
# and large-file builds rename some (__read_chk, open64), hence the pattern.
DENY='open|openat|creat|fopen|fdopen|freopen|close|read|readv|write|writev|pread|pwrite'
DENY+='|fread|fwrite|fgets|fputs|fputc|puts|putchar|printf|fprintf|vprintf|vfprintf|perror'
DENY+='|stdin|stdout|stderr|fflush|fclose|getline|getdelim'
DENY+='|stat|fstat|lstat|fstatat|access|faccessat|opendir|readdir|closedir|readlink'
DENY+='|unlink|unlinkat|rename|renameat|mkdir|rmdir|mkstemp|mkdtemp|tmpfile|chmod|fchmod'
DENY+='|fsync|fdatasync|ftruncate|truncate|lseek|dup|dup2|pipe|pipe2|fcntl|ioctl|mmap'
DENY+='|socket|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv|recvfrom|recvmsg'
DENY+='|getaddrinfo|gethostbyname|gethostname|poll|select|epoll_wait|epoll_create1'
DENY+='|fork|vfork|execv|execve|execvp|execl|execlp|posix_spawn|posix_spawnp|system|popen'
DENY+='|waitpid|wait|kill|killpg|raise|signal|sigaction|alarm|setitimer|exit|_exit|abort'
DENY+='|getenv|secure_getenv|setenv|unsetenv|putenv|getpid|getuid|geteuid|getcwd|chdir'
DENY+='|time|clock_gettime|gettimeofday|clock|localtime|localtime_r|mktime|tzset'
DENY+='|sleep|usleep|nanosleep|getrandom|getentropy|rand|random|srand|arc4random'
DENY+='|syslog|openlog|pthread_create|pthread_mutex_lock|dlopen|sd_journal_print'
PATTERN="^(__)?($DENY)(64)?(_chk|_unlocked)?\$|^(uv|curl|MHD|git|libssh2|sd)_"

for l in "${PURE[@]}"; do
	nm -u "$BUILDDIR/libpl_$l.a" | awk -v lib="$l" '
		/:$/ { obj = substr($1, 1, length($1) - 1); next }
		NF == 2 && $1 == "U" { print lib "/" obj, $2 }' >>"$W/undef"
done
# ASan may route abort through its own runtime; abort() itself is the
# reaction to a broken invariant, not I/O.
awk -v re="$PATTERN" '$2 ~ re && $2 != "abort"' "$W/undef" | sort -u >"$W/bad"
while read -r obj sym; do
	fail "$obj calls $sym, which a pure module may not (move it to an edge layer)"
done <"$W/bad"

# ---- 2. no call up into an edge layer -----------------------------------
for l in "${EDGES[@]}"; do
	nm --defined-only -g "$BUILDDIR/libpl_$l.a" | awk -v lib="$l" '
		/:$/ { obj = substr($1, 1, length($1) - 1); next }
		NF == 3 { print $3, lib "/" obj }'
done | sort -u >"$W/edge_defs"
awk '{ print $2, $1 }' "$W/undef" | sort -u >"$W/pure_needs"
join "$W/pure_needs" "$W/edge_defs" >"$W/up" || true
while read -r sym user def; do
	fail "$user calls $sym, defined by the edge $def"
done <"$W/up"

# ---- 3. edge headers do not compile in a pure layer -----------------------
CC_DB=$BUILDDIR/compile_commands.json
[ -f "$CC_DB" ] || { echo "FAIL: $CC_DB is missing (CMAKE_EXPORT_COMPILE_COMMANDS)"; exit 1; }
HEADERS=('<uv.h>' '<curl/curl.h>' '<microhttpd.h>' '<git2.h>' '<libssh2.h>'
	'<systemd/sd-daemon.h>' '"log.h"' '"sysio.h"' '"gitops.h"' '"http.h"')
for probe in base/util.c core/policy.c; do
	python3 - "$CC_DB" "$SRCDIR/daemon/$probe" >"$W/cmd" <<'EOF'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"] == sys.argv[2]:
        print(e["directory"])
        print(e["command"])
        break
EOF
	[ -s "$W/cmd" ] || { fail "no compile command for daemon/$probe"; continue; }
	dir=$(sed -n 1p "$W/cmd")
	cmd=$(sed -n 2p "$W/cmd")
	for h in "${HEADERS[@]}"; do
		printf '#include %s\nint layers_probe(void);\nint layers_probe(void) { return 0; }\n' "$h" >"$W/probe.c"
		# the real command, with the probe in place of the source and no object
		probe_cmd=${cmd/" $SRCDIR/daemon/$probe"/" $W/probe.c"}
		probe_cmd=$(echo "$probe_cmd" | sed -E 's/ -o [^ ]+/ -o \/dev\/null/')
		if (cd "$dir" && eval "$probe_cmd -fsyntax-only") >"$W/out" 2>&1; then
			fail "daemon/${probe%%/*}: #include $h compiles in a pure layer"
		fi
	done
done

if [ "$failures" -ne 0 ]; then
	echo "$failures layering failure(s)"
	exit 1
fi
echo "ok: base and core call no I/O, no edge symbol, and cannot include an edge header"
