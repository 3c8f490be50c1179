/* pipelined-git - the helper process that runs one libgit2 network
 * operation (fetch, ls-remote, push) for the git layer, so that it can be
 * killed at its deadline (see gitops.h and gitops_net.c). */
#include "gitops_int.h"

/* LeakSanitizer hooks (unused in normal builds).  Debian's libgit2 1.5.1
 * leaks on every network operation, none of it through our code: PCRE2
 * match data when it creates a remote, and the known_hosts list it loads
 * from $HOME/.ssh during the SSH handshake; libssh2 1.10 leaks OpenSSL
 * objects when it signs with an ECDSA key (seen with full stacks under
 * ASAN_OPTIONS=fast_unwind_on_malloc=0).  libgit2 has no frame pointers,
 * so with the fast unwinder the stacks end inside these libraries and can
 * only be matched by module; slow unwinding would triple the cost of every
 * helper run under the sanitizers.  So in this one short-lived process,
 * allocations made inside libgit2 and its SSH/crypto/regex libraries are not
 * leak-checked; our own allocations here still are, and the local object
 * code (gitops.c) is leak-checked in full in the daemon and the tests. */
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
