/* pipelined-git - the helper process that runs one libgit2 network
 * operation (fetch, ls-remote, push) for the git layer, so that it can be
 * killed at its deadline (see gitops.h and gitops_net.c). */
#include "gitops_int.h"

/* LeakSanitizer hooks (unused in normal builds).  Debian's libgit2 1.5.1
 * leaks on every network operation, none of it through our code: PCRE2
 * match data when it creates a remote, and the known_hosts list it loads
 * from $HOME/.ssh during the SSH handshake; libssh2 1.10 leaks OpenSSL
 * objects when it signs with an ECDSA key (seen with full stacks under
 * ASAN_OPTIONS=fast_unwind_on_malloc=0).  The one-shot operations run their
 * libgit2 calls inside a leak-check pause (gitops_net.c, GITOPS_LSAN_*), so
 * those objects are never reported and the exit check has nothing to
 * match: matching a leak against a suppression makes the sanitizer load the
 * debug information of every mapped library, about 0.2 s of CPU per helper
 * run, which was a third of an end-to-end test's CPU.  The long-lived
 * session (libssh2 only) keeps our own allocations checked between its
 * library calls, so its libssh2/OpenSSL leaks are matched here by module
 * (libgit2 has no frame pointers: with the fast unwinder the stacks end
 * inside these libraries and can only be matched by module). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libgit2.so\n"
	       "leak:libpcre2-8.so\n"
	       "leak:libssh2.so\n"
	       "leak:libcrypto.so\n";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

int main(int argc, char **argv)
{
	return gitops_worker_main(argc - 1, argv + 1);
}
