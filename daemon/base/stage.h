/* stage.h - the five stages of the pipeline, in their fixed order. */
#ifndef PIPELINED_STAGE_H
#define PIPELINED_STAGE_H

enum stage {
	STAGE_CI = 0,
	STAGE_INTTEST,
	STAGE_BETA,
	STAGE_PAPER,
	STAGE_LIVE,
	STAGE_COUNT
};

/* "ci", "integration-test", "beta", "paper", "live". */
const char *stage_name(enum stage s);
/* Exact, case-sensitive match of a stage name; -1 if unknown. */
int stage_parse(enum stage *out, const char *name);
/* beta, paper and live have a values file; ci and integration-test are
 * evidence stages. */
int stage_is_deploy(enum stage s);

#endif
