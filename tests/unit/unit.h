/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every cmocka unit test includes, in the order cmocka needs. */
#ifndef KS_UNIT_H
#define KS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif /* KS_UNIT_H */
