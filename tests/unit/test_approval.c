/* Unit tests for approval.c's pure parts (issue 14 item 3): the approval
 * message with and without the dashboard's Operator: trailer, and who
 * counts as the requester when an operator presses Approve.  The git side
 * is tests/e2e/accept_approvals.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <git2.h>

#include "approval.h"
#include "trailer.h"
#include "util.h"

#define REQ "0123456789abcdef0123456789abcdef01234567"

static void test_message(void **state)
{
	struct buf m = BUF_INIT;
	struct trailer_list tl;

	assert_int_equal(approval_message(&m, STAGE_LIVE, REQ, NULL), 0);
	assert_string_equal(m.data, "approve live: 0123456\n\nApproves: " REQ "\n");
	buf_reset(&m);
	assert_int_equal(approval_message(&m, STAGE_LIVE, REQ, "ops"), 0);
	assert_string_equal(m.data, "approve live: 0123456\n\nApproves: " REQ "\nOperator: ops\n");
	/* the daemon reads it as an approval: one trailer block */
	assert_int_equal(trailer_parse(&tl, m.data, m.len, NULL), 0);
	assert_string_equal(trailer_list_get(&tl, TRAILER_APPROVES), REQ);
	assert_string_equal(trailer_list_get(&tl, TRAILER_OPERATOR), "ops");
	trailer_list_release(&tl);
	buf_reset(&m);
	assert_int_equal(approval_message(&m, STAGE_CI, REQ, NULL), ERR_INVALID);
	assert_int_equal(approval_message(&m, STAGE_LIVE, "0123", NULL), ERR_INVALID);
	assert_int_equal(approval_message(&m, STAGE_LIVE, REQ, " "), ERR_INVALID);
	assert_int_equal(approval_message(&m, STAGE_LIVE, REQ, "a\nStage: live"), ERR_INVALID);
	buf_release(&m);
}

static void test_by_requester(void **state)
{
	const char *fp = "SHA256:dashkey", *prs = "dashboard@desk,ops-dashboard";
	struct approval_requester dana = { "dana@example.com", "dana@example.com",
					   "dana@example.com,dana@home.example", "SHA256:dana" };
	struct approval_requester unsigned_req = { "dana@example.com", NULL, NULL, NULL };
	struct approval_requester by_desk = { "x@example.com", "ops-dashboard",
					      "ops-dashboard", "SHA256:other" };
	struct approval_requester by_key = { "x@example.com", "someone", "someone", fp };

	/* someone else */
	assert_false(approval_by_requester(&dana, "rita", "rita@example.com", fp, prs));
	/* the author's e-mail, in any case; a principal of the request's key */
	assert_true(approval_by_requester(&dana, "dana", "DANA@example.com", fp, prs));
	assert_true(approval_by_requester(&dana, "dana", "dana@home.example", fp, prs));
	/* the operator's name is the signing principal */
	assert_true(approval_by_requester(&by_desk, "ops-dashboard", "o@x", "SHA256:k", "k@x"));
	/* the request was signed with the approval key itself, or by a principal
	 * of it: every dashboard approval would be the author's */
	assert_true(approval_by_requester(&by_key, "rita", "rita@example.com", fp, prs));
	assert_true(approval_by_requester(&by_desk, "rita", "rita@example.com", fp, prs));
	/* unsigned request (not judged yet): the author's e-mail still counts */
	assert_true(approval_by_requester(&unsigned_req, "d", "dana@example.com", fp, prs));
	assert_false(approval_by_requester(&unsigned_req, "rita", "rita@example.com", fp, prs));
	assert_false(approval_by_requester(&unsigned_req, "rita", "rita@example.com", fp, ""));
}

static int setup(void **state)
{
	(void)state;
	git_libgit2_init();	/* trailer_parse reads trailers as git does */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_by_requester),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
