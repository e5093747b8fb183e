/*
 * render_sarif.c
 *		drydock.sarif: the findings as a SARIF 2.1.0 log (OASIS), for code
 *		scanning UIs (GitHub's upload-sarif, editors).  One rule per code of
 *		docs/codes.md with its meaning, fix and a link; one result per failing,
 *		warning or suppressed check, at its artifact and line.  Passing and
 *		skipped checks are not results: SARIF reports problems.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/*
 * A path as a SARIF URI reference (RFC 3986): relative paths stay relative
 * (to the directory drydock ran in, normally the repository root, which is
 * what code scanning expects), absolute ones become file:// URIs; every
 * byte outside the unreserved set and '/' is percent-encoded.
 */
static char *
path_uri(const char *path)
{
	strbuf		sb;

	sb_init(&sb);
	if (path[0] == '/')
		sb_append(&sb, "file://");
	for (const unsigned char *p = (const unsigned char *) path; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("-._~/", *p))
			sb_appendn(&sb, (const char *) p, 1);
		else
			sb_printf(&sb, "%%%02X", *p);
	}
	return sb.data;
}

static json_t *
rule_for(const char *code)
{
	const report_code_doc *d = report_code_doc_for(code);
	char	   *uri = xasprintf("%s#verification-finding-codes", report_docs_url());
	json_t	   *rule;

	if (d)
		rule = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:s, s:{s:s, s:[s]}}",
						 "id", code, "name", code,
						 "shortDescription", "text", d->meaning,
						 "fullDescription", "text", d->meaning,
						 "help", "text", d->fix,
						 "markdown", "",
						 "helpUri", uri,
						 "properties", "family", d->family, "tags", d->family);
	else
	{
		/* a preflight refusal ("copy-program") or an error that stopped the run */
		rule = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:s}",
						 "id", code, "name", code,
						 "shortDescription", "text", strcmp(code, "error") == 0 ?
						 "the run stopped on an error (SQL error, bad input, sandbox failure)" :
						 "refused by drydock's preflight before anything ran",
						 "help", "text", strcmp(code, "error") == 0 ?
						 "fix the artifact at the place the error names" :
						 "remove the construct; docs/preflight.md lists what is refused and why",
						 "helpUri", uri);
	}
	if (d)
	{
		char	   *md = xasprintf("**%s** (%s): %s.\n\nHow to fix: %s.\n\nExample: %s",
								   code, d->family, d->meaning, d->fix, d->example);

		json_object_set_new(json_object_get(rule, "help"), "markdown", json_string(md));
		free(md);
	}
	free(uri);
	return rule;
}

json_t *
report_render_sarif(json_t *doc)
{
	json_t	   *findings = report_findings(doc);
	json_t	   *rules = json_array();
	json_t	   *rule_index = json_object();
	json_t	   *results = json_array();
	json_t	   *driver;
	json_t	   *run;
	size_t		i;
	json_t	   *f;
	int			exit_code = (int) json_integer_value(json_object_get(doc, "exit_code"));

	/* every documented code is a rule, whether or not this run found it */
	for (const report_code_doc *d = report_code_doc_list(); d->code; d++)
	{
		json_object_set_new(rule_index, d->code, json_integer((json_int_t) json_array_size(rules)));
		json_array_append_new(rules, rule_for(d->code));
	}
	json_array_foreach(findings, i, f)
	{
		const char *status = report_str(f, "status");
		const char *code = report_str(f, "code");
		const char *file = json_string_value(json_object_get(f, "file"));
		int			line = (int) json_integer_value(json_object_get(f, "line"));
		json_t	   *res;
		json_t	   *idx;
		char		fp[65];
		const char *level;

		if (strcmp(status, "fail") == 0)
			level = "error";
		else if (strcmp(status, "warn") == 0)
			level = "warning";
		else if (strcmp(status, "suppressed") == 0)
			level = "note";
		else
			continue;
		idx = json_object_get(rule_index, code);
		if (!idx)
		{
			idx = json_integer((json_int_t) json_array_size(rules));
			json_object_set_new(rule_index, code, idx);
			json_array_append_new(rules, rule_for(code));
		}
		report_finding_fingerprint(f, fp);
		res = json_pack("{s:s, s:O, s:s, s:{s:s}, s:{s:s}, s:{s:s, s:s}}",
						"ruleId", code, "ruleIndex", idx, "level", level,
						"message", "text", report_str(f, "message"),
						"partialFingerprints", "drydockFinding/v1", fp,
						"properties", "phase", report_str(f, "phase"), "status", status);
		if (file && *file)
		{
			char	   *uri = path_uri(file);
			json_t	   *phys = json_pack("{s:{s:s}}", "artifactLocation", "uri", uri);
			json_t	   *loc = json_pack("{s:o}", "physicalLocation", phys);

			if (line > 0)
				json_object_set_new(phys, "region", json_pack("{s:i}", "startLine", line));
			if (*report_str(f, "object"))
				json_object_set_new(loc, "logicalLocations",
									json_pack("[{s:s}]", "fullyQualifiedName", report_str(f, "object")));
			json_object_set_new(res, "locations", json_pack("[o]", loc));
			free(uri);
		}
		if (strcmp(status, "suppressed") == 0)
		{
			json_t	   *sup = json_object_get(f, "suppression");
			const char *source = report_str(sup, "source");

			json_object_set_new(res, "suppressions",
								json_pack("[{s:s, s:s}]", "kind",
										  strcmp(source, "policy") == 0 ? "external" : "inSource",
										  "justification", report_str(sup, "reason")));
		}
		json_array_append_new(results, res);
	}
	driver = json_pack("{s:s, s:s, s:s, s:o}", "name", "drydock",
					   "version", report_str(doc, "drydock_version"),
					   "informationUri", report_docs_url(), "rules", rules);
	run = json_pack("{s:{s:o}, s:o, s:[{s:b, s:i}]}",
					"tool", "driver", driver, "results", results,
					"invocations", "executionSuccessful", exit_code == 0 || exit_code == 1,
					"exitCode", exit_code);
	json_decref(rule_index);
	json_decref(findings);
	return json_pack("{s:s, s:s, s:[o]}",
					 "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
					 "version", "2.1.0", "runs", run);
}
