/*
 * common.h: what every process of mssql-capture shares: logging,
 * allocation and the configuration.  One section per file (STYLE.md A2).
 */

#ifndef COMMON_H
#define COMMON_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))

/* log.c */
#define LOG_LEVEL_FATAL	0
#define LOG_LEVEL_WARN	1
#define LOG_LEVEL_INFO	2
#define LOG_LEVEL_DEBUG	3

void		 log_init(const char *, int, int);
void		 log_setname(const char *);
const char	*log_getname(void);
void		 log_setlevel(int);
void		 log_setstream(FILE *);
int		 log_parse_level(const char *);
void		 vlog(int, const char *, va_list) printflike(2, 0);
void		 log_at(int, const char *, ...) printflike(2, 3);
void		 log_warn(const char *, ...) printflike(1, 2);
void		 log_warnx(const char *, ...) printflike(1, 2);
void		 log_info(const char *, ...) printflike(1, 2);
void		 log_debug(const char *, ...) printflike(1, 2);
__dead void	 fatal(const char *, ...) printflike(1, 2);
__dead void	 fatalx(const char *, ...) printflike(1, 2);

/* xmalloc.c */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xrealloc(void *, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
int		 xasprintf(char **, const char *, ...) printflike(2, 3);
int		 xvasprintf(char **, const char *, va_list) printflike(2, 0);

/* config.c */
enum config_mode {
	CONFIG_MODE_AUTO = 0,
	CONFIG_MODE_CT,
	CONFIG_MODE_CDC,
	CONFIG_MODE_BATCH
};

enum config_encrypt {
	CONFIG_ENCRYPT_REQUEST = 0,	/* TLS if the server offers it */
	CONFIG_ENCRYPT_OFF,
	CONFIG_ENCRYPT_REQUIRE
};

enum config_oversized {
	CONFIG_OVERSIZED_FAIL = 0,
	CONFIG_OVERSIZED_TRUNCATE,
	CONFIG_OVERSIZED_NULL
};

enum config_format {
	CONFIG_FORMAT_JSONL = 0,
	CONFIG_FORMAT_DEBEZIUM
};

/* One bound table. */
struct config_binding {
	char			*namespace;	/* schema */
	char			*stream;	/* table */
	int			 priority;
	enum config_mode	 mode;		/* inherits the top-level mode */
	char		       **include;	/* NULL-terminated or NULL */
	char		       **exclude;	/* NULL-terminated or NULL */
};

/* The whole configuration, every default applied. */
struct config {
	char			*path;		/* file it came from */
	char			*address;	/* as written */
	char			*host;
	int			 port;		/* 1433 unless address says */
	char			*database;
	char			*user;
	char			*password;	/* resolved: env, file or key */
	char			*password_file;
	const char		*password_source; /* "password", "password_file",
						     "MSSQL_CAPTURE_PASSWORD" */
	int			 history_mode;
	enum config_mode	 mode;
	struct {
		enum config_encrypt	 encrypt;
		char			*ca_file;
		int			 trust_server_certificate;
	}			 tls;
	struct {
		int			 discover_tables_without_ct;
		long			 backfill_chunk_size;
		char			*skip_backfills;
		char		       **skip;	/* parsed, NULL-terminated */
		char			*source_tag;
		long			 poll_interval_ms;
		int			 max_workers;
		enum config_oversized	 oversized_value_strategy;
	}			 advanced;
	struct {
		char			*path;	/* "-" is stdout */
		enum config_format	 format;
	}			 output;
	struct {
		char			*path;	/* NULL: no replica */
	}			 replica;
	struct {
		char			*path;
	}			 state;
	struct config_binding	*bindings;
	size_t			 nbindings;
};

/* Every problem found while loading, in file order. */
struct config_errors {
	char		**msgs;
	size_t		  n;
};

struct config	*config_load(const char *, struct config_errors *);
void		 config_free(struct config *);
void		 config_errors_free(struct config_errors *);
void		 config_print(const struct config *, FILE *);
const char	*config_mode_name(enum config_mode);
int		 config_skips_backfill(const struct config *, const char *,
		     const char *);

#endif /* COMMON_H */
