# gen_codes.awk -- docs/codes.md's table of finding codes as a C table
# (src/codes_table.h), so that the SARIF rules and the job summary carry the
# same meaning and fix text as the documentation, and a code added there
# reaches them with the next build.
function cesc(s) {
	gsub(/\\/, "\\\\", s);
	gsub(/"/, "\\\"", s);
	return s;
}
function trim(s) {
	sub(/^[ \t]+/, "", s);
	sub(/[ \t]+$/, "", s);
	return s;
}
BEGIN {
	print "/* generated from docs/codes.md by driver/gen_codes.awk: do not edit */";
	print "static const report_code_doc report_code_docs[] = {";
}
/^\| [A-Z][A-Z][0-9][0-9][0-9] \|/ {
	n = split($0, f, /[ ]\|[ ]?/);
	# f[1] = "| CODE", f[2] family, f[3] meaning, f[4] fix, f[5] example
	code = trim(substr(f[1], 2));
	printf("\t{\"%s\", \"%s\", \"%s\", \"%s\", \"%s\"},\n", code, cesc(trim(f[2])),
		   cesc(trim(f[3])), cesc(trim(f[4])), cesc(trim(f[5])));
}
END {
	print "\t{NULL, NULL, NULL, NULL, NULL}";
	print "};";
}
