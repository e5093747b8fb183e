/*
 * verify.h
 *		The governance verification battery (verify.c) and its policy
 *		(verify_policy.c): rule table, severities, parsed policy.
 */
#ifndef DRYDOCK_VERIFY_H
#define DRYDOCK_VERIFY_H

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum DrydockSeverity
{
	SEV_ERROR,					/* a finding is a failure */
	SEV_WARN,					/* a finding is a warning */
	SEV_OFF						/* the rule is disabled: one "skipped" row */
} DrydockSeverity;

typedef struct DrydockRule
{
	const char *code;			/* stable finding code, e.g. "KC001" */
	const char *family;			/* TV, KC, CV, NH, AO, RB */
	DrydockSeverity defsev;		/* default severity */
	const char *pass_msg;		/* message of the summary "pass" row */
} DrydockRule;

extern const DrydockRule drydock_rules[];
extern const int drydock_nrules;
extern const DrydockRule drydock_driver_rules[];	/* RP: drydock replay */
extern const int drydock_ndriver_rules;

/* Lock modes, weakest first; index + 1 is the rank used by AO006. */
extern const char *const drydock_lock_modes[];
#define DRYDOCK_NLOCKMODES 8

/*
 * One entry of policy key "suppress": a finding of one of codes whose object
 * matches the glob object becomes a "suppressed" row (see docs/codes.md).
 */
typedef struct DrydockSuppression
{
	List	   *codes;			/* of char *: stable codes (one or more) */
	char	   *object;			/* glob; "*" when not given */
	char	   *reason;			/* non-empty */
	char	   *expires;		/* "YYYY-MM-DD" or NULL */
	char	   *source;			/* "FILE:LINE" of an inline directive, or "policy" */
	bool		expired;		/* expires is before today: not applied */
	int			matched;		/* findings it suppressed in this call */
} DrydockSuppression;

typedef struct DrydockPolicy
{
	DrydockSeverity *sev;		/* per rule, drydock_nrules entries */
	const char **sev_source;	/* policy key that set it, or NULL */
	char	   *schema;			/* "schema", or NULL */
	int			expected_count; /* -1: not given */
	List	   *expected_tables;	/* of char *; NIL: not given as a list */
	bool		expected_is_list;
	List	   *allowed_types;	/* of char *; NIL and !allowed_types_given:
								 * no whitelist (CV001 skipped) */
	bool		allowed_types_given;
	bool		audit_existing; /* CV/NH/KC/TV005-6 on pre-existing objects too */
	char	   *name_pattern;
	bool		allow_cross_schema_fk;
	bool		forbid_schema_creation;
	int			max_lock_rank;	/* 1..8 */
	List	   *notices;		/* of char *: NOTICE texts from the apply */
	List	   *suppress;		/* of DrydockSuppression * */
	List	   *allow_suppress; /* of char *: codes/families (validated only:
								 * the driver enforces it on inline ones) */
} DrydockPolicy;

extern DrydockPolicy *drydock_parse_policy(Jsonb *policy);
extern int	drydock_rule_index(const char *code);
extern DrydockSuppression *drydock_find_suppression(DrydockPolicy *p, const char *code,
													const char *object);

extern Datum drydock_verify(PG_FUNCTION_ARGS);
extern Datum drydock_verify_rollback(PG_FUNCTION_ARGS);
extern Datum drydock_object_exists(PG_FUNCTION_ARGS);
extern Datum drydock_default_policy(PG_FUNCTION_ARGS);
extern Datum drydock_finding_codes(PG_FUNCTION_ARGS);
extern Datum drydock_object_glob_match_sql(PG_FUNCTION_ARGS);

#endif							/* DRYDOCK_VERIFY_H */
