/*
 * typespriv.h: what types.c, typestr.c and tdstypes.c share and nothing
 * else needs: the internal value representations of the conversions.
 */

#ifndef TYPESPRIV_H
#define TYPESPRIV_H

typedef unsigned __int128 typu128;

/* A borrowed view of a value (sqlite3_value or struct simval). */
struct typval {
	int kind;
	int64_t i;
	double f;
	const unsigned char *p;
	size_t len;
};

/* An exact number: sign, magnitude < 10^38, scale. */
struct typnum {
	int neg;
	typu128 mag;
	int scale;
};

/* A date and time: day number, 100 ns units of the day, offset. */
struct typdt {
	int32_t days; /* since 0001-01-01 */
	int64_t time; /* 0 .. TYPDT_DAY - 1, local time */
	int offset; /* minutes east of UTC */
	int has_date;
	int has_time;
	int has_offset; /* 1 numeric, 2 "Z" */
	int fdigits;
	int64_t ticks; /* datetime: 1/300 s of the day */
};

#define TYPDT_SEC 10000000LL
#define TYPDT_DAY (86400LL * TYPDT_SEC)
#define TYPDT_1900 693595 /* 1900-01-01 */
#define TYPDT_MAXDAY 3652058 /* 9999-12-31 */

/* Families of source types. */
enum {
	TYPF_INT,
	TYPF_BIT,
	TYPF_FLOAT,
	TYPF_NUM,
	TYPF_DT,
	TYPF_GUID,
	TYPF_BIN,
	TYPF_STR
};

/* types.c */
void typval_from_sqlite(struct typval *, sqlite3_value *);
void typval_from_simval(struct typval *, const struct simval *);
void typval_infer(const struct typval *, struct sim_type *);
int typval_convert(const struct typval *, const struct sim_type *,
    const struct sim_type *, int, struct simval *, struct sim_error *);
void typval_set_text(struct simval *, const char *, size_t);
void typval_set_blob(struct simval *, const void *, size_t);
void typval_set_int(struct simval *, int64_t);
void typval_set_float(struct simval *, double);
int64_t typval_int(const struct typval *);
double typval_float(const struct typval *);
int typval_num(const struct typval *, const struct sim_type *, struct typnum *,
    struct sim_error *);
int typval_dt(const struct typval *, const struct sim_type *, struct typdt *,
    struct sim_error *);
int types_family(const struct sim_type *);
int types_err_notallowed(
    const struct sim_type *, const struct sim_type *, int, struct sim_error *);
int types_conv_variant(
    const struct typval *, const struct sim_type *, struct simval *);
int types_float_overflow(double, const struct sim_type *, struct sim_error *);
int types_dt_to_dt(struct typdt *, const struct sim_type *,
    const struct sim_type *, struct sim_error *);
int types_parse_int(const char *, size_t, int64_t *);
typu128 typnum_pow10(int);
void typnum_rescale(struct typnum *, int, int);
int typnum_parse(const char *, size_t, int, int, int, struct typnum *);
size_t typnum_format(const struct typnum *, char *, size_t);
int typnum_from_double(double, int, struct typnum *);
int typnum_arith(const struct typnum *, const struct typnum *, int, int, int,
    struct typnum *);
int32_t typdt_days(int, int, int);
void typdt_civil(int32_t, int *, int *, int *);
int typdt_parse(const char *, size_t, struct typdt *);
int typdt_parse_order(const char *, size_t, int, struct typdt *);
void typdt_round(struct typdt *, int);
void typdt_round_datetime(struct typdt *);
size_t typdt_format(const struct typdt *, const struct sim_type *, char *);
int32_t typdt_utc_days(const struct typdt *);
int typguid_parse(const char *, size_t, unsigned char *);
void typguid_format(const unsigned char *, char *);

/* typestr.c */
int types_conv_str(const struct typval *, const struct sim_type *,
    const struct sim_type *, int, struct simval *, struct sim_error *);
void typstr_put_utf8(struct sbuf *, uint32_t);
int typstr_cp1252_byte(uint32_t);
void typstr_to_cp1252(struct sbuf *, const char *, size_t);
void typstr_from_cp1252(struct sbuf *, const unsigned char *, size_t);
int typstr_is_ascii(const unsigned char *, size_t);

#endif /* TYPESPRIV_H */
