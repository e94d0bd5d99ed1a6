/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Decimal numbers as people write them in options and settings: digits and
 * nothing else.  strtoul() alone skips leading blanks, takes a sign (and
 * wraps "-1" round), and reads "0x10" with base 0: none of that is a number
 * a user meant.
 */
#ifndef KS_DECIMAL_H
#define KS_DECIMAL_H

/*
 * Reads the digits text starts with (at least one; nothing may come before
 * them) into *value.  With end NULL they must be all of text; otherwise
 * *end is where they stop.  0, or -1 when there are none, when they
 * overflow, or when text goes on and end is NULL.
 */
int ks_parse_decimal(const char *text, unsigned long long *value,
		     const char **end);

#endif /* KS_DECIMAL_H */
