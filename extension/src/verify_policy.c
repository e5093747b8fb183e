/*
 * verify_policy.c
 *		The verification policy: the table of rules (stable codes, default
 *		severities), parsing and validation of the jsonb policy given to
 *		drydock.verify(), and drydock.default_policy().
 *
 * The policy is read with the jsonb iterator API, never as text, so that
 * every key and value type can be checked and reported by name.  Unknown
 * keys and wrong value types are errors: a typo in a governance policy must
 * not silently turn a rule off.  The meaning of every key is documented in
 * docs/policy.md, the meaning of every code in docs/codes.md and at the top
 * of verify.c.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/varlena.h"

#include "object_glob.h"
#include "verify.h"

PG_FUNCTION_INFO_V1(drydock_default_policy);

/*
 * The rules, in output order.  Codes are stable: a later issue keys
 * suppressions on them, so never renumber, only append.
 */
/* The rules, from the one list of codes (common/finding_codes.def). */
#define DD_CODE(code, family, sev, rule, meaning, fix, example) {code, family, SEV_##sev, rule},
#define DD_DRIVER_CODE(code, family, sev, rule, meaning, fix, example)
const DrydockRule drydock_rules[] = {
#include "finding_codes.def"
};
#undef DD_CODE
#undef DD_DRIVER_CODE
const int	drydock_nrules = lengthof(drydock_rules);

/* drydock replay's own codes (RP), listed by finding_codes() */
#define DD_CODE(code, family, sev, rule, meaning, fix, example)
#define DD_DRIVER_CODE(code, family, sev, rule, meaning, fix, example) {code, family, SEV_##sev, rule},
const DrydockRule drydock_driver_rules[] = {
#include "finding_codes.def"
};
#undef DD_CODE
#undef DD_DRIVER_CODE
const int	drydock_ndriver_rules = lengthof(drydock_driver_rules);

const char *const drydock_lock_modes[DRYDOCK_NLOCKMODES] = {
	"AccessShareLock", "RowShareLock", "RowExclusiveLock",
	"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
	"ExclusiveLock", "AccessExclusiveLock"
};

#define DEFAULT_NAME_PATTERN	"^[a-z_][a-z0-9_]*$"
#define DEFAULT_MAX_LOCK		"ShareRowExclusiveLock"

#define POLICY_KEYS_HINT \
	"Valid keys: schema, expected_tables, allowed_types, name_pattern, " \
	"allow_cross_schema_fk, forbid_schema_creation, max_lock_on_existing, " \
	"audit_existing, notices, rules, suppress, allow_suppress, max_lock_seconds; " \
	"see drydock.default_policy()."

static const char *const families[] = {"TV", "KC", "CV", "NH", "AO", "RB", "LS"};

int
drydock_rule_index(const char *code)
{
	for (int i = 0; i < drydock_nrules; i++)
		if (strcmp(drydock_rules[i].code, code) == 0)
			return i;
	return -1;
}

static const char *
jbv_type_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "an unexpected value";
	}
}

static void
wrong_type(const char *key, const char *want, JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("policy key \"%s\" must be %s, not %s", key, want, jbv_type_name(v)),
			 errhint("See drydock.default_policy() and docs/policy.md.")));
}

static char *
jbv_cstring(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static char *
get_string(const char *key, JsonbValue *v)
{
	if (v->type != jbvString)
		wrong_type(key, "a string", v);
	return jbv_cstring(v);
}

static bool
get_bool(const char *key, JsonbValue *v)
{
	if (v->type != jbvBool)
		wrong_type(key, "a boolean", v);
	return v->val.boolean;
}

/* A JSON array of strings, as a List of char *. */
static List *
get_string_array(const char *key, JsonbValue *v)
{
	List	   *result = NIL;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		wrong_type(key, "an array of strings", v);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("policy key \"%s\" must be an array of strings, but an element is %s",
							key, jbv_type_name(&elem)),
					 errhint("See drydock.default_policy() and docs/policy.md.")));
		result = lappend(result, jbv_cstring(&elem));
	}
	return result;
}

/* A non-negative integral JSON number. */
static int
get_count(const char *key, JsonbValue *v)
{
	char	   *s;

	if (v->type != jbvNumeric)
		wrong_type(key, "a number or an array of table names", v);
	s = DatumGetCString(DirectFunctionCall1(numeric_out,
											NumericGetDatum(v->val.numeric)));
	if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy key \"%s\" must be a non-negative integer, not %s", key, s),
				 errhint("Give a table count, e.g. 12, or a list of table names.")));
	return atoi(s);
}

/*
 * Compile name_pattern now, with pg_regcomp's status rather than an error
 * thrown from inside, so that a bad regex is reported against its key.
 */
static void
check_regex(const char *pattern)
{
	int			len = strlen(pattern);
	pg_wchar   *wpat = palloc((len + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(pattern, wpat, len);
	regex_t		re;
	int			rc;

	rc = pg_regcomp(&re, wpat, wlen, REG_ADVANCED, C_COLLATION_OID);
	if (rc != REG_OKAY)
	{
		char		buf[256];

		pg_regerror(rc, &re, buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("policy key \"name_pattern\" is not a valid regular expression: %s",
						buf),
				 errdetail("The pattern is: %s", pattern),
				 errhint("Use a POSIX regular expression, e.g. \"%s\".",
						 DEFAULT_NAME_PATTERN)));
	}
	pg_regfree(&re);
}

static DrydockSeverity
parse_severity(const char *key, JsonbValue *v)
{
	char	   *s;

	if (v->type != jbvString)
		wrong_type(key, "one of \"error\", \"warn\", \"off\"", v);
	s = jbv_cstring(v);
	if (strcmp(s, "error") == 0)
		return SEV_ERROR;
	if (strcmp(s, "warn") == 0)
		return SEV_WARN;
	if (strcmp(s, "off") == 0)
		return SEV_OFF;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("policy key \"%s\" has invalid severity \"%s\"", key, s),
			 errhint("A rule severity is \"error\", \"warn\" or \"off\".")));
	pg_unreachable();
}

/*
 * "rules": {"KC": "warn", "KC001": "error"}.  A code overrides its family
 * whatever the order of the keys, so families are applied first.
 */
static void
parse_rules(DrydockPolicy *p, JsonbValue *v)
{
	for (int pass = 0; pass < 2; pass++)
	{
		JsonbIterator *it;
		JsonbValue	k;
		JsonbValue	val;
		JsonbIteratorToken tok;

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			wrong_type("rules", "an object mapping codes or families to severities", v);
		it = JsonbIteratorInit(v->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			char	   *key;
			char	   *qual;
			bool		is_family = false;
			int			idx;

			if (tok != WJB_KEY)
				continue;
			key = jbv_cstring(&k);
			tok = JsonbIteratorNext(&it, &val, true);
			Assert(tok == WJB_VALUE);
			qual = psprintf("rules.%s", key);

			for (int f = 0; f < lengthof(families); f++)
				if (strcmp(key, families[f]) == 0)
					is_family = true;
			idx = drydock_rule_index(key);
			if (!is_family && idx < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown rule \"%s\" in policy key \"rules\"", key),
						 errhint("Rules are keyed by family (TV, KC, CV, NH, AO, RB) or by code (e.g. KC004); see docs/codes.md.")));
			if (pass == 0 && is_family)
			{
				DrydockSeverity s = parse_severity(qual, &val);

				for (int i = 0; i < drydock_nrules; i++)
					if (strcmp(drydock_rules[i].family, key) == 0)
					{
						p->sev[i] = s;
						p->sev_source[i] = qual;
					}
			}
			else if (pass == 1 && !is_family)
			{
				p->sev[idx] = parse_severity(qual, &val);
				p->sev_source[idx] = qual;
			}
		}
	}
}

static int
lock_rank(const char *key, const char *mode)
{
	for (int i = 0; i < DRYDOCK_NLOCKMODES; i++)
		if (pg_strcasecmp(mode, drydock_lock_modes[i]) == 0)
			return i + 1;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("policy key \"%s\" has unknown lock mode \"%s\"", key, mode),
			 errhint("Use a pg_locks mode name, from AccessShareLock to AccessExclusiveLock, e.g. \"ShareRowExclusiveLock\".")));
	pg_unreachable();
}

/*
 * max_lock_seconds bounds the production lock time the driver estimates from
 * --prod-stats (driver/src/estimate.c); verify() does not use it, but checks
 * it with every other key so that a typo is caught before the run: a number
 * of seconds for every lock mode, or an object mapping lock modes to seconds.
 */
static void
check_seconds(const char *key, JsonbValue *v)
{
	char	   *s;
	char	   *end;
	double		d;

	if (v->type != jbvNumeric)
		wrong_type(key, "a number of seconds", v);
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	d = strtod(s, &end);
	if (*end != '\0' || d < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy key \"%s\" must be a non-negative number of seconds, not %s", key, s),
				 errhint("See docs/policy.md.")));
}

static void
check_max_lock_seconds(const char *key, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	val;
	JsonbIteratorToken tok;

	if (v->type == jbvNumeric)
	{
		check_seconds(key, v);
		return;
	}
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		wrong_type(key, "a number of seconds or an object mapping lock modes to seconds", v);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *mode;

		if (tok != WJB_KEY)
			continue;
		mode = jbv_cstring(&k);
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		(void) lock_rank(key, mode);
		check_seconds(psprintf("%s.%s", key, mode), &val);
	}
}

/* ---------- suppressions ---------- */

static bool
is_family(const char *s)
{
	for (int f = 0; f < lengthof(families); f++)
		if (strcmp(s, families[f]) == 0)
			return true;
	return false;
}

static bool
is_driver_code(const char *s)
{
	for (int i = 0; i < drydock_ndriver_rules; i++)
		if (strcmp(drydock_driver_rules[i].code, s) == 0)
			return true;
	return false;
}

/*
 * Every element of codes must be a code verify()/verify_rollback() reports
 * (or, with families_ok, a family).  key names the policy key in the ERROR.
 */
static void
check_codes(const char *key, List *codes, bool families_ok)
{
	ListCell   *lc;

	foreach(lc, codes)
	{
		const char *c = lfirst(lc);

		if (drydock_rule_index(c) >= 0 || (families_ok && is_family(c)))
			continue;
		if (is_driver_code(c))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("policy key \"%s\" names %s, which drydock replay reports, not verify()",
							key, c),
					 errhint("Only the codes of drydock.verify() and drydock.verify_rollback() can be suppressed; see drydock.finding_codes().")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy key \"%s\" names unknown finding code \"%s\"", key, c),
				 errhint("%s see drydock.finding_codes() and docs/codes.md.",
						 families_ok ? "Give codes (e.g. KC004) or families (TV, KC, CV, NH, AO, RB, LS);" :
						 "Give stable codes such as KC004;")));
	}
}

/* "YYYY-MM-DD", a real date */
static DateADT
parse_expires(const char *key, const char *s)
{
	int			y = 0,
				m = 0,
				d = 0,
				y2,
				m2,
				d2;

	if (strlen(s) == 10 && strspn(s, "0123456789-") == 10 && s[4] == '-' && s[7] == '-' &&
		sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 && y >= 1 && m >= 1 && m <= 12 && d >= 1)
	{
		int			j = date2j(y, m, d);

		j2date(j, &y2, &m2, &d2);
		if (y2 == y && m2 == m && d2 == d)
			return (DateADT) (j - POSTGRES_EPOCH_JDATE);
	}
	ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy key \"%s\" must be a date written YYYY-MM-DD, not \"%s\"", key, s),
				 errhint("e.g. \"2026-12-31\": the suppression applies through that day.")));
	pg_unreachable();
}

/*
 * "suppress": [{"code": "KC004" | ["RB001", ...], "object": "app.orders*",
 *               "reason": "...", "expires": "2026-12-31", "source": "..."}]
 */
static List *
parse_suppress(JsonbValue *v)
{
	List	   *result = NIL;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	int			n = 0;
	DateADT		today = GetSQLCurrentDate();

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		wrong_type("suppress", "an array of objects", v);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		DrydockSuppression *s;
		JsonbIterator *eit;
		JsonbValue	k;
		JsonbValue	val;
		char	   *ekey;

		if (tok != WJB_ELEM)
			continue;
		ekey = psprintf("suppress[%d]", n++);
		if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
			wrong_type(ekey, "an object with code, object, reason, expires", &elem);
		s = palloc0(sizeof(DrydockSuppression));
		eit = JsonbIteratorInit(elem.val.binary.data);
		while ((tok = JsonbIteratorNext(&eit, &k, true)) != WJB_DONE)
		{
			char	   *name;
			char	   *qual;

			if (tok != WJB_KEY)
				continue;
			name = jbv_cstring(&k);
			tok = JsonbIteratorNext(&eit, &val, true);
			Assert(tok == WJB_VALUE);
			qual = psprintf("%s.%s", ekey, name);
			if (strcmp(name, "code") == 0)
			{
				if (val.type == jbvString)
					s->codes = list_make1(jbv_cstring(&val));
				else
					s->codes = get_string_array(qual, &val);
				if (s->codes == NIL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("policy key \"%s\" names no code", qual),
							 errhint("Give a code such as \"KC004\" or a list of codes.")));
				check_codes(qual, s->codes, false);
			}
			else if (strcmp(name, "object") == 0)
				s->object = get_string(qual, &val);
			else if (strcmp(name, "reason") == 0)
				s->reason = get_string(qual, &val);
			else if (strcmp(name, "source") == 0)
				s->source = get_string(qual, &val);
			else if (strcmp(name, "expires") == 0)
			{
				if (val.type == jbvNull)
					continue;
				s->expires = get_string(qual, &val);
				s->expired = parse_expires(qual, s->expires) < today;
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown key \"%s\" in policy key \"%s\"", name, ekey),
						 errhint("A suppression has code, object, reason, expires and source.")));
		}
		if (s->codes == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("policy key \"%s\" has no \"code\"", ekey),
					 errhint("Name the finding code it suppresses, e.g. {\"code\": \"KC004\", ...}.")));
		if (s->reason == NULL || s->reason[strspn(s->reason, " \t\r\n")] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("policy key \"%s\" has no \"reason\"", ekey),
					 errhint("Every suppression says why the finding is accepted; a reviewer reads it in the report.")));
		if (s->object == NULL)
			s->object = "*";
		if (s->source == NULL)
			s->source = "policy";
		result = lappend(result, s);
	}
	return result;
}


/* The first applicable (not expired) suppression of a finding, or NULL. */
DrydockSuppression *
drydock_find_suppression(DrydockPolicy *p, const char *code, const char *object)
{
	ListCell   *lc;

	foreach(lc, p->suppress)
	{
		DrydockSuppression *s = lfirst(lc);
		ListCell   *c;

		if (s->expired)
			continue;
		foreach(c, s->codes)
			if (strcmp((char *) lfirst(c), code) == 0 &&
				dd_object_glob_match(s->object, object))
			{
				s->matched++;
				return s;
			}
	}
	return NULL;
}

DrydockPolicy *
drydock_parse_policy(Jsonb *policy)
{
	DrydockPolicy *p = palloc0(sizeof(DrydockPolicy));
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbIteratorToken tok;

	p->sev = palloc(sizeof(DrydockSeverity) * drydock_nrules);
	p->sev_source = palloc0(sizeof(char *) * drydock_nrules);
	for (int i = 0; i < drydock_nrules; i++)
		p->sev[i] = drydock_rules[i].defsev;
	p->expected_count = -1;
	/* no type whitelist by default: CV001 is skipped (allowed_types null) */
	p->name_pattern = pstrdup(DEFAULT_NAME_PATTERN);
	p->forbid_schema_creation = true;
	p->max_lock_rank = lock_rank("max_lock_on_existing", DEFAULT_MAX_LOCK);

	if (policy == NULL)
		return p;
	if (!JB_ROOT_IS_OBJECT(policy))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy must be a JSON object"),
				 errhint("Pass '{}' for the defaults; see drydock.default_policy().")));

	it = JsonbIteratorInit(&policy->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = jbv_cstring(&k);
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);

		if (strcmp(key, "schema") == 0)
			p->schema = get_string(key, &v);
		else if (strcmp(key, "expected_tables") == 0)
		{
			if (v.type == jbvNull)
				continue;		/* as in default_policy(): not given */
			if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
			{
				p->expected_tables = get_string_array(key, &v);
				p->expected_is_list = true;
				p->expected_count = list_length(p->expected_tables);
			}
			else
				p->expected_count = get_count(key, &v);
		}
		else if (strcmp(key, "allowed_types") == 0)
		{
			if (v.type == jbvNull)
				continue;		/* as in default_policy(): no whitelist */
			p->allowed_types = get_string_array(key, &v);
			p->allowed_types_given = true;
		}
		else if (strcmp(key, "audit_existing") == 0)
			p->audit_existing = get_bool(key, &v);
		else if (strcmp(key, "name_pattern") == 0)
		{
			p->name_pattern = get_string(key, &v);
			check_regex(p->name_pattern);
		}
		else if (strcmp(key, "allow_cross_schema_fk") == 0)
			p->allow_cross_schema_fk = get_bool(key, &v);
		else if (strcmp(key, "forbid_schema_creation") == 0)
			p->forbid_schema_creation = get_bool(key, &v);
		else if (strcmp(key, "max_lock_on_existing") == 0)
			p->max_lock_rank = lock_rank(key, get_string(key, &v));
		else if (strcmp(key, "notices") == 0)
			p->notices = get_string_array(key, &v);
		else if (strcmp(key, "rules") == 0)
			parse_rules(p, &v);
		else if (strcmp(key, "max_lock_seconds") == 0)
			check_max_lock_seconds(key, &v);
		else if (strcmp(key, "suppress") == 0)
			p->suppress = parse_suppress(&v);
		else if (strcmp(key, "allow_suppress") == 0)
		{
			if (v.type == jbvNull)
				continue;		/* as in default_policy(): every code */
			p->allow_suppress = get_string_array(key, &v);
			check_codes(key, p->allow_suppress, true);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown policy key \"%s\"", key),
					 errhint(POLICY_KEYS_HINT)));
	}
	return p;
}

/*
 * What pushJsonbValue() builds in: PostgreSQL 19 takes a JsonbInState (the
 * value ends up in its result), earlier majors a JsonbParseState pointer
 * (the value is returned by the last push).  Zeroed before the first push.
 */
#if PG_VERSION_NUM >= 190000
typedef JsonbInState PushState;
#else
typedef JsonbParseState *PushState;
#endif

/* pushJsonbValue helpers for default_policy() */
static void
push_string(PushState *st, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(st, tok, &v);
}

static void
push_bool(PushState *st, const char *key, bool b)
{
	JsonbValue	v;

	push_string(st, WJB_KEY, key);
	v.type = jbvBool;
	v.val.boolean = b;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * drydock.default_policy(): every key with its default, including the
 * severity of every rule.  Feeding it back to verify() changes nothing.
 */
Datum
drydock_default_policy(PG_FUNCTION_ARGS)
{
	PushState	st;
	JsonbValue	v;
	JsonbValue *res;

	memset(&st, 0, sizeof(st));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);

	push_string(&st, WJB_KEY, "expected_tables");
	v.type = jbvNull;
	pushJsonbValue(&st, WJB_VALUE, &v);

	push_string(&st, WJB_KEY, "allowed_types");
	v.type = jbvNull;
	pushJsonbValue(&st, WJB_VALUE, &v);

	push_string(&st, WJB_KEY, "name_pattern");
	push_string(&st, WJB_VALUE, DEFAULT_NAME_PATTERN);
	push_bool(&st, "allow_cross_schema_fk", false);
	push_bool(&st, "forbid_schema_creation", true);
	push_string(&st, WJB_KEY, "max_lock_on_existing");
	push_string(&st, WJB_VALUE, DEFAULT_MAX_LOCK);
	push_bool(&st, "audit_existing", false);

	push_string(&st, WJB_KEY, "notices");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);

	push_string(&st, WJB_KEY, "suppress");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);

	push_string(&st, WJB_KEY, "allow_suppress");
	v.type = jbvNull;
	pushJsonbValue(&st, WJB_VALUE, &v);

	push_string(&st, WJB_KEY, "rules");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < drydock_nrules; i++)
	{
		push_string(&st, WJB_KEY, drydock_rules[i].code);
		push_string(&st, WJB_VALUE,
					drydock_rules[i].defsev == SEV_ERROR ? "error" :
					drydock_rules[i].defsev == SEV_WARN ? "warn" : "off");
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

#if PG_VERSION_NUM >= 190000
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	res = st.result;
#else
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
#endif
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

