/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Percent-decoding (%XX escapes), as the OTel environment's lists of
 * name=value pairs and gRPC's grpc-message header use it.
 */
#ifndef KS_PERCENT_H
#define KS_PERCENT_H

#include <stddef.h>

/*
 * The len bytes of text with their escapes decoded, malloc()ed and
 * NUL-terminated in *out.  0, -EINVAL for a broken escape, -EILSEQ for
 * %00 (which would cut the text short), or -ENOMEM; nothing is allocated
 * on error.
 */
int ks_percent_decode(const char *text, size_t len, char **out);

#endif /* KS_PERCENT_H */
