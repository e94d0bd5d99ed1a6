/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KS_VERSION_H
#define KS_VERSION_H

#define KS_VERSION "0.1.0"

#endif /* KS_VERSION_H */
