/* pipelined-git - the helper process that runs one libgit2 network
 * operation (fetch, ls-remote, push) for the git layer, so that it can be
 * killed at its deadline (see gitops.h and gitops_net.c). */
#include "gitops_int.h"

/* LeakSanitizer hook (unused in normal builds).  Debian's libgit2 1.5.1
 * leaks on every network operation, none of it through our code: PCRE2
 * match data when it creates a remote, and the known_hosts list it loads
 * from $HOME/.ssh during the SSH handshake.  Shown with full stacks by
 * ASAN_OPTIONS=fast_unwind_on_malloc=0; suppressed here, in this one
 * short-lived process, so every other leak still fails the tests. */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);
const char *__lsan_default_options(void);

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

/* The suppressions match frames below libgit2, which has no frame
 * pointers: unwind slowly (this process lives for one operation). */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:pcre2_match_data_create_8\n"
	       "leak:libssh2_knownhost_init\n"
	       "leak:libssh2_knownhost_readline\n"
	       "leak:git_remote_connect_ext\n";
}

int main(int argc, char **argv)
{
	return gitops_worker_main(argc - 1, argv + 1);
}
