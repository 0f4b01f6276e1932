/*
 * The configuration file: JSON, with property names that follow the
 * Estuary SQL Server connector (DESIGN.md section 3).
 *
 * Loading never stops at the first problem.  An operator who gets one
 * error, fixes it and gets the next one wastes a restart per mistake,
 * so every check appends to a list and config_load() fails only at the
 * end, with every problem in file order.  Each message names the key as
 * a JSON pointer, says what was expected and shows what was found,
 * rendered as JSON: "config: /advanced/backfill_chunk_size: expected a
 * positive integer, got "abc"".
 *
 * The keys are described by tables (struct config_key): a name, a type,
 * and where the value goes (an offset into struct config, or into struct
 * config_binding for the members of a binding).  One walker checks an
 * object against a table: unknown keys (with a did-you-mean for near
 * misses), wrong types and missing required keys.  What a table cannot
 * say (the address, the password sources, the skip list, duplicate
 * bindings) is done by small functions afterwards, on the whole file.
 *
 * JSON has no comments but an example configuration needs them, so "//"
 * and "#" line comments outside strings are blanked to spaces before
 * jansson sees the text: line and column numbers of syntax errors stay
 * right.
 *
 * Relative paths are resolved against the directory of the
 * configuration file (made absolute), never against the current
 * directory, so that a daemon started from anywhere (or one that later
 * changes directory) finds the same files.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"

#define CONFIG_MAX_FILE (16 * 1024 * 1024)
#define CONFIG_MAX_PASSWORD 4096
#define CONFIG_MAX_RENDER 72
#define CONFIG_DEFAULT_PORT 1433
#define CONFIG_PASSWORD_ENV "MSSQL_CAPTURE_PASSWORD"
#define CONFIG_PASSWORD_MASK "********"

struct config_ctx;

enum config_type {
	CONFIG_T_STRING, /* char *, non-empty */
	CONFIG_T_BOOL, /* int, 0 or 1 */
	CONFIG_T_INT, /* int, any sign */
	CONFIG_T_POSINT, /* int, > 0 */
	CONFIG_T_POSLONG, /* long, > 0 */
	CONFIG_T_ENUM, /* an enum, from names[] */
	CONFIG_T_NAMES, /* char **, NULL-terminated, non-empty */
	CONFIG_T_SECTION, /* object, checked against keys[] */
	CONFIG_T_CUSTOM /* fn() does it all */
};

/* One word of an enumeration and its value. */
struct config_name {
	const char *name;
	int value;
};

/* One key of an object. */
struct config_key {
	const char *name;
	enum config_type type;
	size_t off; /* from the base of the object */
	int required;
	const struct config_name *names; /* CONFIG_T_ENUM */
	const struct config_key *keys; /* CONFIG_T_SECTION */
	void (*fn)(struct config_ctx *, const char *, json_t *, void *);
};

/* The state of one config_load(). */
struct config_ctx {
	const char *file; /* as given */
	char *dir; /* absolute directory of the file */
	json_t *root;
	struct config *cfg;
	struct config_errors *errs;
};

static void config_error(struct config_ctx *, const char *, ...)
    printflike(2, 3);
static void config_error_type(
    struct config_ctx *, const char *, const char *, json_t *);
static void config_error_unknown(
    struct config_ctx *, const char *, const char *, const struct config_key *);
static char *config_render(json_t *);
static char *config_pointer(const char *, const char *);
static int config_distance(const char *, const char *);
static const char *config_suggest_near(const char *, const struct config_key *);
static char *config_suggest_elsewhere(const char *, const struct config_key *);
static char *config_read_file(struct config_ctx *, size_t *);
static void config_strip_comments(char *, size_t);
static json_t *config_parse(struct config_ctx *);
static void config_set_dir(struct config_ctx *);
static void config_set_defaults(struct config *);
static void config_walk(struct config_ctx *, const char *, json_t *,
    const struct config_key *, void *);
static const struct config_key *config_find_key(
    const struct config_key *, const char *);
static void config_set_value(struct config_ctx *, const char *,
    const struct config_key *, json_t *, void *);
static void config_set_string(
    struct config_ctx *, const char *, json_t *, char **);
static void config_set_integer(struct config_ctx *, const char *,
    const struct config_key *, json_t *, void *);
static void config_set_enum(struct config_ctx *, const char *,
    const struct config_key *, json_t *, void *);
static void config_set_names(
    struct config_ctx *, const char *, json_t *, char ***);
static char *config_enum_expected(const struct config_name *);
static const char *config_enum_name(const struct config_name *, int);
static void config_parse_address(
    struct config_ctx *, const char *, json_t *, void *);
static int config_split_address(const char *, char **, int *);
static int config_parse_port(const char *, int *);
static void config_parse_listen(
    struct config_ctx *, const char *, json_t *, void *);
static int config_split_listen(const char *, char **, int *);
static void config_parse_skip(
    struct config_ctx *, const char *, json_t *, void *);
static int config_valid_table_name(const char *);
static void config_parse_columns(
    struct config_ctx *, const char *, json_t *, void *);
static void config_parse_bindings(
    struct config_ctx *, const char *, json_t *, void *);
static void config_check_duplicate(struct config_ctx *, size_t);
static void config_finish(struct config_ctx *);
static void config_finish_modes(struct config_ctx *);
static void config_resolve_path(struct config_ctx *, char **);
static void config_check_readable(
    struct config_ctx *, const char *, const char *);
static void config_finish_password(struct config_ctx *);
static void config_finish_unimplemented(struct config_ctx *);
static void config_read_password(struct config_ctx *);
static char *config_read_secret(struct config_ctx *, int, const char *);
static void config_free_names(char **);
static int config_has(json_t *, const char *);
static json_t *config_json_string(const char *);
static json_t *config_json_names(char **);
static json_t *config_print_object(json_t *, const char *);
static void config_print_options(const struct config *, json_t *);
static void config_print_files(const struct config *, json_t *);
static json_t *config_print_bindings(const struct config *);

static const struct config_name config_modes[] = {
	{ "auto", CONFIG_MODE_AUTO },
	{ "ct", CONFIG_MODE_CT },
	{ "cdc", CONFIG_MODE_CDC },
	{ "batch", CONFIG_MODE_BATCH },
	{ NULL, 0 },
};

static const struct config_name config_encrypts[] = {
	{ "off", CONFIG_ENCRYPT_OFF },
	{ "request", CONFIG_ENCRYPT_REQUEST },
	{ "require", CONFIG_ENCRYPT_REQUIRE },
	{ NULL, 0 },
};

static const struct config_name config_oversizeds[] = {
	{ "fail", CONFIG_OVERSIZED_FAIL },
	{ "truncate", CONFIG_OVERSIZED_TRUNCATE },
	{ "null", CONFIG_OVERSIZED_NULL },
	{ NULL, 0 },
};

static const struct config_name config_formats[] = {
	{ "jsonl", CONFIG_FORMAT_JSONL },
	{ "debezium", CONFIG_FORMAT_DEBEZIUM },
	{ NULL, 0 },
};

#define CFG(m) offsetof(struct config, m)
#define BND(m) offsetof(struct config_binding, m)

static const struct config_key config_tls_keys[] = {
	{ "encrypt", CONFIG_T_ENUM, CFG(tls.encrypt), 0, config_encrypts },
	{ "ca_file", CONFIG_T_STRING, CFG(tls.ca_file) },
	{ "trust_server_certificate", CONFIG_T_BOOL,
	    CFG(tls.trust_server_certificate) },
	{ NULL },
};

static const struct config_key config_advanced_keys[] = {
	{ "discover_tables_without_ct", CONFIG_T_BOOL,
	    CFG(advanced.discover_tables_without_ct) },
	{ "backfill_chunk_size", CONFIG_T_POSLONG,
	    CFG(advanced.backfill_chunk_size) },
	{ "skip_backfills", CONFIG_T_CUSTOM, 0, 0, NULL, NULL,
	    config_parse_skip },
	{ "source_tag", CONFIG_T_STRING, CFG(advanced.source_tag) },
	{ "poll_interval_ms", CONFIG_T_POSLONG,
	    CFG(advanced.poll_interval_ms) },
	{ "max_workers", CONFIG_T_POSINT, CFG(advanced.max_workers) },
	{ "oversized_value_strategy", CONFIG_T_ENUM,
	    CFG(advanced.oversized_value_strategy), 0, config_oversizeds },
	{ NULL },
};

static const struct config_key config_output_keys[] = {
	{ "path", CONFIG_T_STRING, CFG(output.path) },
	{ "format", CONFIG_T_ENUM, CFG(output.format), 0, config_formats },
	{ NULL },
};

static const struct config_key config_replica_keys[] = {
	{ "path", CONFIG_T_STRING, CFG(replica.path) },
	{ NULL },
};

static const struct config_key config_state_keys[] = {
	{ "path", CONFIG_T_STRING, CFG(state.path) },
	{ NULL },
};

static const struct config_key config_metrics_keys[] = {
	{ "listen", CONFIG_T_CUSTOM, 0, 0, NULL, NULL, config_parse_listen },
	{ NULL },
};

static const struct config_key config_columns_keys[] = {
	{ "include", CONFIG_T_NAMES, BND(include) },
	{ "exclude", CONFIG_T_NAMES, BND(exclude) },
	{ NULL },
};

static const struct config_key config_binding_keys[] = {
	{ "namespace", CONFIG_T_STRING, BND(namespace), 1 },
	{ "stream", CONFIG_T_STRING, BND(stream), 1 },
	{ "priority", CONFIG_T_INT, BND(priority) },
	{ "mode", CONFIG_T_ENUM, BND(mode), 0, config_modes },
	{ "columns", CONFIG_T_CUSTOM, 0, 0, NULL, NULL, config_parse_columns },
	{ NULL },
};

static const struct config_key config_root_keys[] = {
	{ "address", CONFIG_T_CUSTOM, 0, 1, NULL, NULL, config_parse_address },
	{ "database", CONFIG_T_STRING, CFG(database), 1 },
	{ "user", CONFIG_T_STRING, CFG(user), 1 },
	{ "password", CONFIG_T_STRING, CFG(password) },
	{ "password_file", CONFIG_T_STRING, CFG(password_file) },
	{ "historyMode", CONFIG_T_BOOL, CFG(history_mode) },
	{ "mode", CONFIG_T_ENUM, CFG(mode), 0, config_modes },
	{ "tls", CONFIG_T_SECTION, 0, 0, NULL, config_tls_keys },
	{ "advanced", CONFIG_T_SECTION, 0, 0, NULL, config_advanced_keys },
	{ "output", CONFIG_T_SECTION, 0, 0, NULL, config_output_keys },
	{ "replica", CONFIG_T_SECTION, 0, 0, NULL, config_replica_keys },
	{ "state", CONFIG_T_SECTION, 0, 0, NULL, config_state_keys },
	{ "metrics", CONFIG_T_SECTION, 0, 0, NULL, config_metrics_keys },
	{ "bindings", CONFIG_T_CUSTOM, 0, 0, NULL, NULL,
	    config_parse_bindings },
	{ NULL },
};

#undef CFG
#undef BND

/* Load, validate and resolve a configuration file; NULL if errs->n > 0. */
struct config *
config_load(const char *file, struct config_errors *errs)
{
	struct config_ctx ctx;
	struct config *cfg;

	memset(errs, 0, sizeof(*errs));
	memset(&ctx, 0, sizeof(ctx));
	ctx.file = file;
	ctx.errs = errs;
	if ((ctx.root = config_parse(&ctx)) == NULL)
		return (NULL);

	cfg = ctx.cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(file);
	config_set_defaults(cfg);
	config_set_dir(&ctx);
	if (!json_is_object(ctx.root)) {
		char *got = config_render(ctx.root);

		config_error(&ctx,
		    "%s: expected a JSON object at the top level, "
		    "got %s",
		    file, got);
		free(got);
	} else {
		config_walk(&ctx, "", ctx.root, config_root_keys, cfg);
		config_finish(&ctx);
	}
	json_decref(ctx.root);
	free(ctx.dir);
	if (errs->n != 0) {
		config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

/* Free a configuration. */
void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nbindings; i++) {
		free(cfg->bindings[i].namespace);
		free(cfg->bindings[i].stream);
		config_free_names(cfg->bindings[i].include);
		config_free_names(cfg->bindings[i].exclude);
	}
	free(cfg->bindings);
	free(cfg->path);
	free(cfg->address);
	free(cfg->host);
	free(cfg->database);
	free(cfg->user);
	if (cfg->password != NULL)
		explicit_bzero(cfg->password, strlen(cfg->password));
	free(cfg->password);
	free(cfg->password_file);
	free(cfg->tls.ca_file);
	free(cfg->advanced.skip_backfills);
	config_free_names(cfg->advanced.skip);
	free(cfg->advanced.source_tag);
	free(cfg->output.path);
	free(cfg->replica.path);
	free(cfg->state.path);
	free(cfg->metrics.listen);
	free(cfg->metrics.host);
	free(cfg);
}

/* Free the messages of a failed config_load(). */
void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* Return the configuration name of a mode. */
const char *
config_mode_name(enum config_mode mode)
{
	return (config_enum_name(config_modes, (int)mode));
}

/* Is schema.table listed in advanced.skip_backfills?  Case-insensitive. */
int
config_skips_backfill(
    const struct config *cfg, const char *schema, const char *table)
{
	size_t len = strlen(schema);
	char **entry;

	if (cfg->advanced.skip == NULL)
		return (0);
	for (entry = cfg->advanced.skip; *entry != NULL; entry++) {
		if (strncasecmp(*entry, schema, len) == 0 &&
		    (*entry)[len] == '.' &&
		    strcasecmp(*entry + len + 1, table) == 0)
			return (1);
	}
	return (0);
}

/*
 * The index of binding "schema.table" in cfg, or (size_t)-1.  A binding
 * is known by that name to the supervisor, its worker and the state.
 */
size_t
config_binding_find(const struct config *cfg, const char *name)
{
	const struct config_binding *b;
	size_t i, len;

	for (i = 0; i < cfg->nbindings; i++) {
		b = &cfg->bindings[i];
		len = strlen(b->namespace);
		if (strncmp(name, b->namespace, len) == 0 && name[len] == '.' &&
		    strcmp(name + len + 1, b->stream) == 0)
			return (i);
	}
	return ((size_t)-1);
}

/* Print the effective configuration as JSON, the password masked. */
void
config_print(const struct config *cfg, FILE *fp)
{
	json_t *root;
	char *address;

	if (strchr(cfg->host, ':') != NULL)
		xasprintf(&address, "[%s]:%d", cfg->host, cfg->port);
	else
		xasprintf(&address, "%s:%d", cfg->host, cfg->port);
	root = json_object();
	json_object_set_new(root, "address", config_json_string(address));
	json_object_set_new(
	    root, "database", config_json_string(cfg->database));
	json_object_set_new(root, "user", config_json_string(cfg->user));
	json_object_set_new(
	    root, "password", json_string(CONFIG_PASSWORD_MASK));
	json_object_set_new(
	    root, "password_source", config_json_string(cfg->password_source));
	json_object_set_new(
	    root, "password_file", config_json_string(cfg->password_file));
	json_object_set_new(
	    root, "historyMode", json_boolean(cfg->history_mode));
	json_object_set_new(
	    root, "mode", json_string(config_mode_name(cfg->mode)));
	config_print_options(cfg, root);
	config_print_files(cfg, root);
	json_object_set_new(root, "bindings", config_print_bindings(cfg));
	json_dumpf(root, fp, JSON_INDENT(2));
	fputc('\n', fp);
	fflush(fp);
	json_decref(root);
	free(address);
}

/* Add an empty object to root under name and return it. */
static json_t *
config_print_object(json_t *root, const char *name)
{
	json_t *obj = json_object();

	json_object_set_new(root, name, obj);
	return (obj);
}

/* The tls and advanced sections, for printing. */
static void
config_print_options(const struct config *cfg, json_t *root)
{
	const char *skip = cfg->advanced.skip_backfills;
	json_t *o;

	o = config_print_object(root, "tls");
	json_object_set_new(o, "encrypt",
	    json_string(config_enum_name(config_encrypts, cfg->tls.encrypt)));
	json_object_set_new(o, "ca_file", config_json_string(cfg->tls.ca_file));
	json_object_set_new(o, "trust_server_certificate",
	    json_boolean(cfg->tls.trust_server_certificate));

	o = config_print_object(root, "advanced");
	json_object_set_new(o, "discover_tables_without_ct",
	    json_boolean(cfg->advanced.discover_tables_without_ct));
	json_object_set_new(o, "backfill_chunk_size",
	    json_integer(cfg->advanced.backfill_chunk_size));
	json_object_set_new(
	    o, "skip_backfills", config_json_string(skip != NULL ? skip : ""));
	json_object_set_new(
	    o, "source_tag", config_json_string(cfg->advanced.source_tag));
	json_object_set_new(o, "poll_interval_ms",
	    json_integer(cfg->advanced.poll_interval_ms));
	json_object_set_new(
	    o, "max_workers", json_integer(cfg->advanced.max_workers));
	json_object_set_new(o, "oversized_value_strategy",
	    json_string(config_enum_name(
		config_oversizeds, cfg->advanced.oversized_value_strategy)));
}

/* The output, replica and state sections, for printing. */
static void
config_print_files(const struct config *cfg, json_t *root)
{
	json_t *o;

	o = config_print_object(root, "output");
	json_object_set_new(o, "path", config_json_string(cfg->output.path));
	json_object_set_new(o, "format",
	    json_string(config_enum_name(config_formats, cfg->output.format)));
	o = config_print_object(root, "replica");
	json_object_set_new(o, "path", config_json_string(cfg->replica.path));
	o = config_print_object(root, "state");
	json_object_set_new(o, "path", config_json_string(cfg->state.path));
	o = config_print_object(root, "metrics");
	json_object_set_new(
	    o, "listen", config_json_string(cfg->metrics.listen));
}

/* The bindings, for printing. */
static json_t *
config_print_bindings(const struct config *cfg)
{
	const struct config_binding *b;
	json_t *array, *columns;
	size_t i;

	array = json_array();
	for (i = 0; i < cfg->nbindings; i++) {
		b = &cfg->bindings[i];
		columns = json_object();
		if (b->include != NULL)
			json_object_set_new(
			    columns, "include", config_json_names(b->include));
		if (b->exclude != NULL)
			json_object_set_new(
			    columns, "exclude", config_json_names(b->exclude));
		json_array_append_new(array,
		    json_pack("{s:o,s:o,s:i,s:s,s:o}", "namespace",
			config_json_string(b->namespace), "stream",
			config_json_string(b->stream), "priority", b->priority,
			"mode", config_mode_name(b->mode), "columns", columns));
	}
	return (array);
}

/* A JSON string, null for NULL; bytes that are not UTF-8 become '?'. */
static json_t *
config_json_string(const char *s)
{
	json_t *v;
	char *copy, *cp;

	if (s == NULL)
		return (json_null());
	if ((v = json_string(s)) != NULL)
		return (v);
	copy = xstrdup(s);
	for (cp = copy; *cp != '\0'; cp++) {
		if ((unsigned char)*cp >= 0x80)
			*cp = '?';
	}
	v = json_string(copy);
	free(copy);
	return (v);
}

/* A JSON array of strings from a NULL-terminated list. */
static json_t *
config_json_names(char **names)
{
	json_t *array = json_array();

	for (; *names != NULL; names++)
		json_array_append_new(array, config_json_string(*names));
	return (array);
}

/* Append one message, "config: " first. */
static void
config_error(struct config_ctx *ctx, const char *fmt, ...)
{
	struct config_errors *errs = ctx->errs;
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&line, "config: %s", msg);
	free(msg);
	errs->msgs =
	    xreallocarray(errs->msgs, errs->n + 1, sizeof(*errs->msgs));
	errs->msgs[errs->n++] = line;
}

/* "PTR: expected WHAT, got VALUE". */
static void
config_error_type(
    struct config_ctx *ctx, const char *ptr, const char *expected, json_t *v)
{
	char *got = config_render(v);

	config_error(ctx, "%s: expected %s, got %s", ptr, expected, got);
	free(got);
}

/* "PTR: unknown key", with a suggestion when there is a good one. */
static void
config_error_unknown(struct config_ctx *ctx, const char *ptr, const char *name,
    const struct config_key *keys)
{
	const char *near;
	char *elsewhere;

	if ((near = config_suggest_near(name, keys)) != NULL) {
		config_error(
		    ctx, "%s: unknown key (did you mean \"%s\"?)", ptr, near);
		return;
	}
	if ((elsewhere = config_suggest_elsewhere(name, keys)) != NULL) {
		config_error(ctx, "%s: unknown key (did you mean \"%s\"?)", ptr,
		    elsewhere);
		free(elsewhere);
		return;
	}
	config_error(ctx, "%s: unknown key", ptr);
}

/*
 * A key of the same object that the user probably meant, or NULL: the
 * same but for case, or at most two edits away (fewer than the length of
 * the name, so that "id" does not suggest "tls").
 */
static const char *
config_suggest_near(const char *name, const struct config_key *keys)
{
	const struct config_key *k;
	const char *best = NULL;
	int d, bestd = 3;

	for (k = keys; k->name != NULL; k++) {
		if (strcasecmp(k->name, name) == 0)
			return (k->name);
	}
	for (k = keys; k->name != NULL; k++) {
		d = config_distance(name, k->name);
		if (d < bestd && d < (int)strlen(name)) {
			bestd = d;
			best = k->name;
		}
	}
	return (best);
}

/* The pointer of the same key in another section, or NULL. */
static char *
config_suggest_elsewhere(const char *name, const struct config_key *keys)
{
	const struct config_key *k, *sub;
	char *ptr;

	for (k = config_root_keys; k->name != NULL; k++) {
		if (keys != config_root_keys && strcasecmp(k->name, name) == 0)
			return (config_pointer("", k->name));
		if (k->type != CONFIG_T_SECTION || k->keys == keys)
			continue;
		for (sub = k->keys; sub->name != NULL; sub++) {
			if (strcasecmp(sub->name, name) == 0) {
				xasprintf(&ptr, "/%s/%s", k->name, sub->name);
				return (ptr);
			}
		}
	}
	return (NULL);
}

/* Render a value as compact JSON for a message, shortened if long. */
static char *
config_render(json_t *v)
{
	char *s, *out;

	if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		return (xstrdup("(unprintable)"));
	if (strlen(s) <= CONFIG_MAX_RENDER) {
		out = xstrdup(s);
		free(s);
		return (out);
	}
	xasprintf(&out, "%.*s...", CONFIG_MAX_RENDER, s);
	free(s);
	return (out);
}

/* Append a key to a JSON pointer, escaping '~' and '/' (RFC 6901). */
static char *
config_pointer(const char *parent, const char *name)
{
	size_t plen = strlen(parent), i, n = 0;
	char *out;

	out = xmalloc(plen + 2 + 2 * strlen(name));
	memcpy(out, parent, plen);
	n = plen;
	out[n++] = '/';
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] == '~' || name[i] == '/') {
			out[n++] = '~';
			out[n++] = name[i] == '~' ? '0' : '1';
		} else
			out[n++] = name[i];
	}
	out[n] = '\0';
	return (out);
}

/* Levenshtein distance, capped: long strings count as far apart. */
static int
config_distance(const char *a, const char *b)
{
	int row[65], diag, up, i, j, la = strlen(a), lb = strlen(b);

	if (la > 64 || lb > 64)
		return (INT_MAX);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return (row[lb]);
}

/* Read the whole file, NUL-terminated; NULL (and an error) on failure. */
static char *
config_read_file(struct config_ctx *ctx, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, size = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = open(ctx->file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		config_error(ctx, "%s: %s", ctx->file, strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (len + 1 >= size) {
			size = size == 0 ? 8192 : size * 2;
			buf = xrealloc(buf, size);
		}
		n = read(fd, buf + len, size - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len > CONFIG_MAX_FILE) {
			errno = EFBIG;
			n = -1;
			break;
		}
	}
	if (n == -1) {
		config_error(ctx, "%s: %s", ctx->file, strerror(errno));
		free(buf);
		buf = NULL;
	} else
		buf[len] = '\0';
	close(fd);
	*lenp = len;
	return (buf);
}

/* Blank "//" and "#" comments outside strings; newlines stay. */
static void
config_strip_comments(char *buf, size_t len)
{
	size_t i;
	int in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (buf[i] == '\\' && i + 1 < len)
				i++;
			else if (buf[i] == '"')
				in_string = 0;
			continue;
		}
		if (buf[i] == '"') {
			in_string = 1;
			continue;
		}
		if (buf[i] != '#' &&
		    !(buf[i] == '/' && i + 1 < len && buf[i + 1] == '/'))
			continue;
		for (; i < len && buf[i] != '\n'; i++)
			buf[i] = ' ';
	}
}

/* Read and parse the file; NULL (and an error) on failure. */
static json_t *
config_parse(struct config_ctx *ctx)
{
	json_error_t jerr;
	json_t *root;
	char *buf;
	size_t len;

	if ((buf = config_read_file(ctx, &len)) == NULL)
		return (NULL);
	config_strip_comments(buf, len);
	root = json_loadb(
	    buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	free(buf);
	if (root == NULL)
		config_error(ctx, "%s:%d:%d: %s", ctx->file, jerr.line,
		    jerr.column, jerr.text);
	return (root);
}

/* Find the absolute directory of the file, for relative paths. */
static void
config_set_dir(struct config_ctx *ctx)
{
	char *real, *copy;

	if ((real = realpath(ctx->file, NULL)) != NULL) {
		ctx->dir = xstrdup(dirname(real));
		free(real);
		return;
	}
	copy = xstrdup(ctx->file);
	ctx->dir = xstrdup(dirname(copy));
	free(copy);
}

/* Every default of DESIGN.md section 3. */
static void
config_set_defaults(struct config *cfg)
{
	cfg->port = CONFIG_DEFAULT_PORT;
	cfg->history_mode = 0;
	cfg->mode = CONFIG_MODE_AUTO;
	cfg->tls.encrypt = CONFIG_ENCRYPT_REQUEST;
	cfg->tls.trust_server_certificate = 0;
	cfg->advanced.discover_tables_without_ct = 0;
	cfg->advanced.backfill_chunk_size = 50000;
	cfg->advanced.poll_interval_ms = 1000;
	cfg->advanced.max_workers = 8;
	cfg->advanced.oversized_value_strategy = CONFIG_OVERSIZED_FAIL;
	cfg->output.path = xstrdup("-");
	cfg->output.format = CONFIG_FORMAT_JSONL;
	cfg->replica.path = NULL;
	cfg->state.path = xstrdup("mssql-capture.state.db");
}

/* Check an object against a key table, storing values from base. */
static void
config_walk(struct config_ctx *ctx, const char *ptr, json_t *obj,
    const struct config_key *keys, void *base)
{
	const struct config_key *k;
	const char *name;
	json_t *v;
	void *it;
	char *kptr;

	for (it = json_object_iter(obj); it != NULL;
	     it = json_object_iter_next(obj, it)) {
		name = json_object_iter_key(it);
		v = json_object_iter_value(it);
		kptr = config_pointer(ptr, name);
		if ((k = config_find_key(keys, name)) == NULL)
			config_error_unknown(ctx, kptr, name, keys);
		else if (!json_is_null(v) || k->required)
			config_set_value(ctx, kptr, k, v, base);
		free(kptr);
	}
	for (k = keys; k->name != NULL; k++) {
		if (!k->required || json_object_get(obj, k->name) != NULL)
			continue;
		kptr = config_pointer(ptr, k->name);
		config_error(ctx, "%s: required key is missing", kptr);
		free(kptr);
	}
}

/* Look a key up by its exact name. */
static const struct config_key *
config_find_key(const struct config_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++) {
		if (strcmp(keys->name, name) == 0)
			return (keys);
	}
	return (NULL);
}

/* Check and store one value according to its key. */
static void
config_set_value(struct config_ctx *ctx, const char *ptr,
    const struct config_key *k, json_t *v, void *base)
{
	char *dst = (char *)base + k->off;

	switch (k->type) {
	case CONFIG_T_STRING:
		config_set_string(ctx, ptr, v, (char **)dst);
		break;
	case CONFIG_T_BOOL:
		if (json_is_boolean(v))
			*(int *)dst = json_is_true(v);
		else
			config_error_type(ctx, ptr, "true or false", v);
		break;
	case CONFIG_T_INT:
	case CONFIG_T_POSINT:
	case CONFIG_T_POSLONG:
		config_set_integer(ctx, ptr, k, v, dst);
		break;
	case CONFIG_T_ENUM:
		config_set_enum(ctx, ptr, k, v, dst);
		break;
	case CONFIG_T_NAMES:
		config_set_names(ctx, ptr, v, (char ***)dst);
		break;
	case CONFIG_T_SECTION:
		if (json_is_object(v))
			config_walk(ctx, ptr, v, k->keys, base);
		else
			config_error_type(ctx, ptr, "an object", v);
		break;
	case CONFIG_T_CUSTOM:
		k->fn(ctx, ptr, v, base);
		break;
	}
}

/* A non-empty string. */
static void
config_set_string(
    struct config_ctx *ctx, const char *ptr, json_t *v, char **dst)
{
	if (!json_is_string(v) || json_string_length(v) == 0) {
		config_error_type(ctx, ptr, "a non-empty string", v);
		return;
	}
	free(*dst);
	*dst = xstrdup(json_string_value(v));
}

/* An integer in the range of its key's type. */
static void
config_set_integer(struct config_ctx *ctx, const char *ptr,
    const struct config_key *k, json_t *v, void *dst)
{
	json_int_t i, min = 1, max = INT_MAX;
	char expected[64];

	if (k->type == CONFIG_T_INT)
		min = INT_MIN;
	else if (k->type == CONFIG_T_POSLONG)
		max = LONG_MAX;
	i = json_is_integer(v) ? json_integer_value(v) : 0;
	if (json_is_integer(v) && i >= min && i <= max) {
		if (k->type == CONFIG_T_POSLONG)
			*(long *)dst = (long)i;
		else
			*(int *)dst = (int)i;
		return;
	}
	if (k->type == CONFIG_T_INT)
		snprintf(expected, sizeof(expected), "an integer");
	else if (json_is_integer(v) && i > max)
		snprintf(expected, sizeof(expected),
		    "a positive integer no larger than %lld", (long long)max);
	else
		snprintf(expected, sizeof(expected), "a positive integer");
	config_error_type(ctx, ptr, expected, v);
}

/* One of the names of an enumeration, exactly. */
static void
config_set_enum(struct config_ctx *ctx, const char *ptr,
    const struct config_key *k, json_t *v, void *dst)
{
	const struct config_name *n;
	char *expected;

	if (json_is_string(v)) {
		for (n = k->names; n->name != NULL; n++) {
			if (strcmp(n->name, json_string_value(v)) == 0) {
				*(int *)dst = n->value;
				return;
			}
		}
	}
	expected = config_enum_expected(k->names);
	config_error_type(ctx, ptr, expected, v);
	free(expected);
}

/* 'one of "a", "b", "c"' for messages. */
static char *
config_enum_expected(const struct config_name *names)
{
	const struct config_name *n;
	char *out, *next;

	out = xstrdup("one of");
	for (n = names; n->name != NULL; n++) {
		xasprintf(
		    &next, "%s%s \"%s\"", out, n == names ? "" : ",", n->name);
		free(out);
		out = next;
	}
	return (out);
}

/* The name of an enumeration value. */
static const char *
config_enum_name(const struct config_name *names, int value)
{
	for (; names->name != NULL; names++) {
		if (names->value == value)
			return (names->name);
	}
	fatalx("config: no name for value %d", value);
}

/* A non-empty array of non-empty strings, kept NULL-terminated. */
static void
config_set_names(
    struct config_ctx *ctx, const char *ptr, json_t *v, char ***dst)
{
	size_t i, n;
	json_t *item;
	char *iptr;

	if (!json_is_array(v) || (n = json_array_size(v)) == 0) {
		config_error_type(ctx, ptr, "a non-empty array of names", v);
		return;
	}
	config_free_names(*dst);
	*dst = xcalloc(n + 1, sizeof(**dst));
	for (i = 0; i < json_array_size(v); i++) {
		item = json_array_get(v, i);
		if (json_is_string(item) && json_string_length(item) != 0) {
			(*dst)[i] = xstrdup(json_string_value(item));
			continue;
		}
		(*dst)[i] = xstrdup("");
		xasprintf(&iptr, "%s/%zu", ptr, i);
		config_error_type(ctx, iptr, "a non-empty string", item);
		free(iptr);
	}
}

/* Is the key there with a value other than null? */
static int
config_has(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return (v != NULL && !json_is_null(v));
}

/* Free a NULL-terminated list. */
static void
config_free_names(char **names)
{
	char **cp;

	if (names == NULL)
		return;
	for (cp = names; *cp != NULL; cp++)
		free(*cp);
	free(names);
}

/* address: host, host:port, [v6] or [v6]:port; the port 1433 by default. */
static void
config_parse_address(
    struct config_ctx *ctx, const char *ptr, json_t *v, void *base)
{
	struct config *cfg = base;
	char *host;
	int port;

	if (!json_is_string(v) ||
	    config_split_address(json_string_value(v), &host, &port) != 0) {
		config_error_type(ctx, ptr,
		    "host or host:port with a port from 1 to 65535", v);
		return;
	}
	free(cfg->address);
	cfg->address = xstrdup(json_string_value(v));
	free(cfg->host);
	cfg->host = host;
	cfg->port = port;
}

/* Split an address into an allocated host and a port; -1 if invalid. */
static int
config_split_address(const char *address, char **host, int *port)
{
	struct in6_addr in6;
	const char *end, *colon;

	*port = CONFIG_DEFAULT_PORT;
	if (*address == '[') {
		if ((end = strchr(address, ']')) == NULL || end == address + 1)
			return (-1);
		if (end[1] != '\0' &&
		    (end[1] != ':' || config_parse_port(end + 2, port) != 0))
			return (-1);
		*host = xstrndup(address + 1, end - address - 1);
		return (0);
	}
	colon = strchr(address, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		if (inet_pton(AF_INET6, address, &in6) != 1)
			return (-1);
		*host = xstrdup(address); /* a bare IPv6 address */
		return (0);
	}
	if (colon == address || *address == '\0' ||
	    strpbrk(address, " \t\r\n[]/") != NULL)
		return (-1);
	if (colon != NULL && config_parse_port(colon + 1, port) != 0)
		return (-1);
	*host = colon != NULL ? xstrndup(address, colon - address)
			      : xstrdup(address);
	return (0);
}

/* A decimal port from 1 to 65535; -1 if invalid. */
static int
config_parse_port(const char *s, int *port)
{
	long n = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return (-1);
		n = n * 10 + (*s - '0');
		if (n > 65535)
			return (-1);
	}
	if (n < 1)
		return (-1);
	*port = n;
	return (0);
}

/*
 * metrics.listen: host:port, [v6]:port, or :port for every IPv4
 * address (0.0.0.0).  The port is required: there is no default.
 */
static void
config_parse_listen(
    struct config_ctx *ctx, const char *ptr, json_t *v, void *base)
{
	struct config *cfg = base;
	char *host;
	int port;

	if (!json_is_string(v) ||
	    config_split_listen(json_string_value(v), &host, &port) != 0) {
		config_error_type(ctx, ptr,
		    "host:port, [ipv6]:port or :port with a port from 1 to "
		    "65535",
		    v);
		return;
	}
	free(cfg->metrics.listen);
	cfg->metrics.listen = xstrdup(json_string_value(v));
	free(cfg->metrics.host);
	cfg->metrics.host = host;
	cfg->metrics.port = port;
}

/* Split a listen address into an allocated host and a port; -1 if bad. */
static int
config_split_listen(const char *listen, char **host, int *port)
{
	struct in6_addr in6;
	const char *colon;
	char *v6;

	if (*listen == '[') {
		if ((colon = strstr(listen, "]:")) == NULL ||
		    config_parse_port(colon + 2, port) != 0)
			return (-1);
		v6 = xstrndup(listen + 1, colon - listen - 1);
		if (inet_pton(AF_INET6, v6, &in6) != 1) {
			free(v6);
			return (-1);
		}
		*host = v6;
		return (0);
	}
	if ((colon = strrchr(listen, ':')) == NULL ||
	    strchr(listen, ':') != colon ||
	    strpbrk(listen, " \t\r\n[]/") != NULL ||
	    config_parse_port(colon + 1, port) != 0)
		return (-1);
	*host = colon == listen ? xstrdup("0.0.0.0")
				: xstrndup(listen, colon - listen);
	return (0);
}

/* advanced.skip_backfills: "schema.table, schema.table". */
static void
config_parse_skip(
    struct config_ctx *ctx, const char *ptr, json_t *v, void *base)
{
	struct config *cfg = base;
	char *copy, *cp, *entry, *end;
	json_t *bad;
	size_t n = 0;

	if (!json_is_string(v)) {
		config_error_type(ctx, ptr,
		    "a comma-separated list of schema.table names", v);
		return;
	}
	free(cfg->advanced.skip_backfills);
	cfg->advanced.skip_backfills = xstrdup(json_string_value(v));
	config_free_names(cfg->advanced.skip);
	cfg->advanced.skip = xcalloc(1, sizeof(char *));
	cp = copy = xstrdup(json_string_value(v));
	while ((entry = strsep(&cp, ",")) != NULL) {
		entry += strspn(entry, " \t");
		end = entry + strlen(entry);
		while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*entry == '\0')
			continue;
		if (!config_valid_table_name(entry)) {
			bad = json_string(entry);
			config_error_type(ctx, ptr, "schema.table", bad);
			json_decref(bad);
			continue;
		}
		cfg->advanced.skip =
		    xreallocarray(cfg->advanced.skip, n + 2, sizeof(char *));
		cfg->advanced.skip[n++] = xstrdup(entry);
		cfg->advanced.skip[n] = NULL;
	}
	free(copy);
}

/* schema.table: exactly one dot, with a name on each side. */
static int
config_valid_table_name(const char *name)
{
	const char *dot = strchr(name, '.');

	return (dot != NULL && dot != name && dot[1] != '\0' &&
	    strchr(dot + 1, '.') == NULL);
}

/* bindings/N/columns: include or exclude, not both. */
static void
config_parse_columns(
    struct config_ctx *ctx, const char *ptr, json_t *v, void *base)
{
	struct config_binding *b = base;

	if (!json_is_object(v)) {
		config_error_type(ctx, ptr, "an object", v);
		return;
	}
	config_walk(ctx, ptr, v, config_columns_keys, base);
	if (config_has(v, "include") && config_has(v, "exclude")) {
		config_error(
		    ctx, "%s: include and exclude are both set; use one", ptr);
		config_free_names(b->exclude);
		b->exclude = NULL;
	}
}

/* bindings: an array of objects, each checked then compared. */
static void
config_parse_bindings(
    struct config_ctx *ctx, const char *ptr, json_t *v, void *base)
{
	struct config *cfg = base;
	struct config_binding *b;
	json_t *item;
	size_t i;
	char *iptr;

	if (!json_is_array(v)) {
		config_error_type(ctx, ptr, "an array of bindings", v);
		return;
	}
	if (json_array_size(v) == 0)
		return;
	cfg->bindings = xcalloc(json_array_size(v), sizeof(*cfg->bindings));
	for (i = 0; i < json_array_size(v); i++) {
		item = json_array_get(v, i);
		b = &cfg->bindings[cfg->nbindings++];
		b->mode = cfg->mode; /* for now; see config_finish_modes */
		xasprintf(&iptr, "%s/%zu", ptr, i);
		if (json_is_object(item)) {
			config_walk(ctx, iptr, item, config_binding_keys, b);
			config_check_duplicate(ctx, i);
		} else
			config_error_type(ctx, iptr, "an object", item);
		free(iptr);
	}
}

/* Is binding i the same table as an earlier one?  Names ignore case. */
static void
config_check_duplicate(struct config_ctx *ctx, size_t i)
{
	struct config_binding *b = ctx->cfg->bindings, *new = &b[i];
	size_t j;

	if (new->namespace == NULL || new->stream == NULL)
		return;
	for (j = 0; j < i; j++) {
		if (b[j].namespace == NULL || b[j].stream == NULL)
			continue;
		if (strcasecmp(b[j].namespace, new->namespace) != 0 ||
		    strcasecmp(b[j].stream, new->stream) != 0)
			continue;
		config_error(ctx,
		    "/bindings/%zu: duplicate binding %s.%s "
		    "(also /bindings/%zu)",
		    i, new->namespace, new->stream, j);
		return;
	}
}

/* What needs the whole file: inherited modes, paths, the password. */
static void
config_finish(struct config_ctx *ctx)
{
	struct config *cfg = ctx->cfg;

	config_finish_modes(ctx);
	config_finish_password(ctx);
	config_finish_unimplemented(ctx);
	config_resolve_path(ctx, &cfg->tls.ca_file);
	if (cfg->tls.ca_file != NULL)
		config_check_readable(ctx, "/tls/ca_file", cfg->tls.ca_file);
	if (strcmp(cfg->output.path, "-") != 0)
		config_resolve_path(ctx, &cfg->output.path);
	config_resolve_path(ctx, &cfg->replica.path);
	config_resolve_path(ctx, &cfg->state.path);
}

/*
 * Values the file format knows but this release does not implement are
 * refused here, so that nothing starts believing it works.
 */
static void
config_finish_unimplemented(struct config_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	size_t i;

	if (cfg->output.format == CONFIG_FORMAT_DEBEZIUM)
		config_error(ctx,
		    "/output/format: \"debezium\" is not "
		    "implemented yet; use \"jsonl\"");
	if (cfg->mode == CONFIG_MODE_BATCH)
		config_error(ctx,
		    "/mode: \"batch\" is not implemented yet; "
		    "use \"auto\", \"ct\" or \"cdc\"");
	for (i = 0; i < cfg->nbindings; i++) {
		if (cfg->bindings[i].mode == CONFIG_MODE_BATCH &&
		    cfg->mode != CONFIG_MODE_BATCH)
			config_error(ctx,
			    "/bindings/%zu/mode: \"batch\" is not "
			    "implemented yet; use \"auto\", \"ct\" or \"cdc\"",
			    i);
	}
}

/* A binding without a mode of its own takes the top-level one. */
static void
config_finish_modes(struct config_ctx *ctx)
{
	json_t *array, *item, *mode;
	size_t i;

	array = json_object_get(ctx->root, "bindings");
	if (!json_is_array(array))
		return;
	for (i = 0; i < json_array_size(array); i++) {
		item = json_array_get(array, i);
		if (i >= ctx->cfg->nbindings)
			break;
		mode =
		    json_is_object(item) ? json_object_get(item, "mode") : NULL;
		if (mode == NULL || json_is_null(mode))
			ctx->cfg->bindings[i].mode = ctx->cfg->mode;
	}
}

/* Make a relative path relative to the configuration file's directory. */
static void
config_resolve_path(struct config_ctx *ctx, char **path)
{
	char *abs;

	if (*path == NULL || **path == '/')
		return;
	if (strcmp(ctx->dir, "/") == 0)
		xasprintf(&abs, "/%s", *path);
	else
		xasprintf(&abs, "%s/%s", ctx->dir, *path);
	free(*path);
	*path = abs;
}

/* The file must open for reading and not be a directory. */
static void
config_check_readable(struct config_ctx *ctx, const char *ptr, const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		config_error(ctx, "%s: %s: %s", ptr, path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1)
		config_error(ctx, "%s: %s: %s", ptr, path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		config_error(ctx, "%s: %s: %s", ptr, path, strerror(EISDIR));
	close(fd);
}

/* The password: the environment, else password, else password_file. */
static void
config_finish_password(struct config_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *env = getenv(CONFIG_PASSWORD_ENV);
	json_t *root = ctx->root;

	if (config_has(root, "password") && config_has(root, "password_file"))
		config_error(ctx,
		    "/password_file: password and password_file "
		    "are both set; use one");
	config_resolve_path(ctx, &cfg->password_file);
	if (env != NULL && *env != '\0') {
		free(cfg->password);
		cfg->password = xstrdup(env);
		cfg->password_source = CONFIG_PASSWORD_ENV;
	} else if (cfg->password != NULL)
		cfg->password_source = "password";
	else if (cfg->password_file != NULL)
		config_read_password(ctx);
	else if (!config_has(root, "password") &&
	    !config_has(root, "password_file"))
		config_error(ctx,
		    "/password: required key is missing (or "
		    "password_file, or %s in the environment)",
		    CONFIG_PASSWORD_ENV);
}

/* Read password_file: private, one line, the newline stripped. */
static void
config_read_password(struct config_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *path = cfg->password_file;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		config_error(
		    ctx, "/password_file: %s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1)
		config_error(
		    ctx, "/password_file: %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		config_error(
		    ctx, "/password_file: %s is not a regular file", path);
	else if (st.st_mode & S_IROTH)
		config_error(ctx,
		    "/password_file: %s is readable by others "
		    "(mode %04o); chmod 600 it",
		    path, (unsigned int)(st.st_mode & 07777));
	else if ((cfg->password = config_read_secret(ctx, fd, path)) != NULL)
		cfg->password_source = "password_file";
	close(fd);
}

/* Read a small secret from fd; one trailing newline is not part of it. */
static char *
config_read_secret(struct config_ctx *ctx, int fd, const char *path)
{
	char buf[CONFIG_MAX_PASSWORD + 3], *secret = NULL;
	ssize_t n;
	size_t len = 0;

	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			config_error(ctx, "/password_file: %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > 0 && len < sizeof(buf) && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > CONFIG_MAX_PASSWORD)
		config_error(ctx, "/password_file: %s is longer than %d bytes",
		    path, CONFIG_MAX_PASSWORD);
	else if (len == 0)
		config_error(ctx, "/password_file: %s is empty", path);
	else if (memchr(buf, '\0', len) != NULL)
		config_error(
		    ctx, "/password_file: %s contains a NUL byte", path);
	else
		secret = xstrndup(buf, len);
out:
	explicit_bzero(buf, sizeof(buf));
	return (secret);
}
