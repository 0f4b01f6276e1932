/*
 * lex.c: the T-SQL tokenizer of mssqlsim.
 *
 * A batch becomes an array of tokens ending with LEX_EOF.  Quoting is
 * undone here (''' inside strings, ]] inside brackets, "" inside quoted
 * names), comments (-- and nested slash-star) vanish, and every token
 * remembers its line for the Line field of ERROR tokens.  Keywords are
 * not told apart from identifiers: the parser asks lex_is_kw(), and a
 * [bracketed] or "quoted" name is never a keyword.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

static const char *lex_reserved[] = { "ADD", "ALL", "ALTER", "AND", "ANY", "AS",
	"ASC", "BEGIN", "BETWEEN", "BREAK", "BY", "CASE", "CHECK", "CLUSTERED",
	"COLUMN", "COMMIT", "CONSTRAINT", "CONTINUE", "CREATE", "CROSS",
	"DATABASE", "DECLARE", "DEFAULT", "DELETE", "DENY", "DESC", "DISTINCT",
	"DROP", "ELSE", "END", "EXCEPT", "EXEC", "EXECUTE", "EXISTS", "FETCH",
	"FOR", "FOREIGN", "FROM", "FULL", "GOTO", "GRANT", "GROUP", "HAVING",
	"IDENTITY", "IF", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO",
	"IS", "JOIN", "KEY", "LEFT", "LIKE", "NOT", "NULL", "OF", "OFF",
	"OFFSET", "ON", "OPTION", "OR", "ORDER", "OUTER", "PERCENT", "PIVOT",
	"PRIMARY", "PRINT", "PROC", "PROCEDURE", "REFERENCES", "RETURN",
	"REVOKE", "RIGHT", "ROLLBACK", "SCHEMA", "SELECT", "SET", "TABLE",
	"THEN", "TO", "TOP", "TRAN", "TRANSACTION", "TRUNCATE", "UNION",
	"UNIQUE", "UPDATE", "USE", "VALUES", "VIEW", "WHEN", "WHERE", "WHILE",
	"WITH", NULL };

static int lex_add(struct lex *, int, int, const char *, size_t);
static size_t lex_quoted(const char *, char, char **, size_t *);
static size_t lex_number(const char *, int *);
static int lex_blank(const char *, size_t *, int *, struct sim_error *);
static int lex_one(
    const char *, size_t *, int *, struct lex *, struct sim_error *);

/* Append a token whose text is a copy of s[0..n). */
static int
lex_add(struct lex *lx, int kind, int line, const char *s, size_t n)
{
	struct lex_tok *t;

	if ((lx->n & 63) == 0)
		lx->t = util_xrealloc(lx->t, (lx->n + 64) * sizeof(*lx->t));
	t = &lx->t[lx->n++];
	t->kind = kind;
	t->line = line;
	t->text = util_xmalloc(n + 1);
	memcpy(t->text, s, n);
	t->text[n] = '\0';
	t->len = n;
	t->off = t->end = 0;
	return (0);
}

/*
 * Read a quoted run starting after the opening quote; close is the
 * closing character, doubled to escape it.  Returns the bytes consumed
 * including the closing quote, or 0 when unterminated.
 */
static size_t
lex_quoted(const char *s, char close, char **out, size_t *outlen)
{
	size_t i, n = 0;
	char *b;

	b = util_xmalloc(strlen(s) + 1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == close) {
			if (s[i + 1] == close) {
				b[n++] = close;
				i++;
				continue;
			}
			b[n] = '\0';
			*out = b;
			*outlen = n;
			return (i + 1);
		}
		b[n++] = s[i];
	}
	free(b);
	return (0);
}

/* Length of a number at s; sets the token kind. */
static size_t
lex_number(const char *s, int *kind)
{
	size_t i = 0;

	*kind = LEX_INT;
	while (isdigit((unsigned char)s[i]))
		i++;
	if (s[i] == '.') {
		*kind = LEX_DEC;
		i++;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if ((s[i] == 'e' || s[i] == 'E') &&
	    (isdigit((unsigned char)s[i + 1]) ||
		((s[i + 1] == '+' || s[i + 1] == '-') &&
		    isdigit((unsigned char)s[i + 2])))) {
		*kind = LEX_FLOAT;
		i += 2;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	return (i);
}

/* Is c part of an identifier? */
static int
lex_idchar(int c)
{
	return (isalnum(c) || c == '_' || c == '@' || c == '#' || c == '$' ||
	    c >= 0x80);
}

/* Skip white space or a comment at s: 0 skipped, 1 none, -1 error. */
static int
lex_blank(const char *s, size_t *off, int *line, struct sim_error *err)
{
	size_t n;
	int depth;

	if (*s == '\n') {
		(*line)++;
		(*off)++;
		return (0);
	}
	if (isspace((unsigned char)*s)) {
		(*off)++;
		return (0);
	}
	if (s[0] == '-' && s[1] == '-') {
		n = strcspn(s, "\n");
		*off += n;
		return (0);
	}
	if (s[0] == '/' && s[1] == '*') {
		for (n = 2, depth = 1; s[n] != '\0' && depth > 0; n++) {
			if (s[n] == '\n')
				(*line)++;
			if (s[n] == '/' && s[n + 1] == '*') {
				depth++;
				n++;
			} else if (s[n] == '*' && s[n + 1] == '/') {
				depth--;
				n++;
			}
		}
		if (depth > 0) {
			sim_error_set(
			    err, 113, 15, 1, "Missing end comment mark '*/'.");
			return (-1);
		}
		*off += n;
		return (0);
	}
	return (1);
}

/* Scan one token (or skip blanks/comments) at *off. */
static int
lex_one(const char *sql, size_t *off, int *line, struct lex *lx,
    struct sim_error *err)
{
	static const char *ops2[] = { "<=", ">=", "<>", "!=", "!<", "!>",
		"::", "+=", "-=", "*=", "/=", NULL };
	const char *s = sql + *off;
	size_t n, qlen;
	char *q;
	int kind, i, rc;

	if ((rc = lex_blank(s, off, line, err)) != 1)
		return (rc);
	if ((s[0] == 'N' || s[0] == 'n') && s[1] == '\'') {
		if ((n = lex_quoted(s + 2, '\'', &q, &qlen)) == 0)
			goto unclosed;
		lex_add(lx, LEX_NSTRING, *line, q, qlen);
		for (i = 0; i < (int)qlen; i++)
			*line += q[i] == '\n';
		free(q);
		*off += n + 2;
		return (0);
	}
	if (s[0] == '\'' || s[0] == '[' || s[0] == '"') {
		if ((n = lex_quoted(
			 s + 1, s[0] == '[' ? ']' : s[0], &q, &qlen)) == 0)
			goto unclosed;
		lex_add(
		    lx, s[0] == '\'' ? LEX_STRING : LEX_QIDENT, *line, q, qlen);
		free(q);
		*off += n + 1;
		return (0);
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (n = 2; isxdigit((unsigned char)s[n]); n++)
			;
		lex_add(lx, LEX_BINARY, *line, s + 2, n - 2);
		*off += n;
		return (0);
	}
	if (isdigit((unsigned char)s[0]) ||
	    (s[0] == '.' && isdigit((unsigned char)s[1]))) {
		n = lex_number(s, &kind);
		lex_add(lx, kind, *line, s, n);
		*off += n;
		return (0);
	}
	if (lex_idchar((unsigned char)s[0])) {
		for (n = 1; lex_idchar((unsigned char)s[n]); n++)
			;
		kind = LEX_IDENT;
		if (s[0] == '@')
			kind = s[1] == '@' ? LEX_GLOBAL : LEX_VAR;
		lex_add(lx, kind, *line, s, n);
		*off += n;
		return (0);
	}
	for (i = 0; ops2[i] != NULL; i++) {
		if (strncmp(s, ops2[i], 2) == 0) {
			lex_add(lx, LEX_OP, *line, s, 2);
			*off += 2;
			return (0);
		}
	}
	lex_add(lx, LEX_OP, *line, s, 1);
	(*off)++;
	return (0);
unclosed:
	sim_error_set(err, 105, 15, 1,
	    "Unclosed quotation mark after the character string '%s'.", s + 1);
	err->line = *line;
	return (-1);
}

/* Split a batch into tokens. */
int
lex_tokenize(const char *sql, struct lex *lx, struct sim_error *err)
{
	size_t off = 0;
	int line = 1;

	size_t start;
	int n;

	memset(lx, 0, sizeof(*lx));
	while (sql[off] != '\0') {
		start = off;
		n = lx->n;
		if (lex_one(sql, &off, &line, lx, err) == -1) {
			lex_free(lx);
			return (-1);
		}
		if (lx->n > n) {
			lx->t[n].off = start;
			lx->t[n].end = off;
		}
	}
	/* Four EOF tokens: lookahead of up to 3 past the end stays inside. */
	for (n = 0; n < 4; n++) {
		lex_add(lx, LEX_EOF, line, "", 0);
		lx->t[lx->n - 1].off = lx->t[lx->n - 1].end = off;
	}
	lx->src = util_xstrdup(sql);
	return (0);
}

/* Release the tokens. */
void
lex_free(struct lex *lx)
{
	int i;

	for (i = 0; i < lx->n; i++)
		free(lx->t[i].text);
	free(lx->t);
	free(lx->src);
	memset(lx, 0, sizeof(*lx));
}

/* Is the token the (unquoted) keyword kw? */
int
lex_is_kw(const struct lex_tok *t, const char *kw)
{
	return (t->kind == LEX_IDENT && strcasecmp(t->text, kw) == 0);
}

/* Is the token the operator op? */
int
lex_is_op(const struct lex_tok *t, const char *op)
{
	return (t->kind == LEX_OP && strcmp(t->text, op) == 0);
}

/* Is the token a reserved keyword (never an alias)? */
int
lex_is_reserved(const struct lex_tok *t)
{
	int i;

	if (t->kind != LEX_IDENT)
		return (0);
	for (i = 0; lex_reserved[i] != NULL; i++)
		if (strcasecmp(t->text, lex_reserved[i]) == 0)
			return (1);
	return (0);
}
