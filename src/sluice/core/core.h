#pragma once
// core: the vocabulary every module shares and nothing else. It depends on no other module
// and on no third-party library.
//
// - status.h / result.h: expected failures as values, the one ErrorCode enum.
// - bytes.h: ByteView (borrowed), Buffer (owning, shareable), Cursor (checked reads).
// - clock.h: the injectable clock and date formatting.
// - fs.h: the file-system seam that tests can make fail.
// - crash_point.h: named points where a test makes the process die (SLUICE_CRASH_AT).
// - ids.h: strong identifier types, Secret, constant-time comparison.
// - text.h: ASCII character classes, case, trimming and case-insensitive comparison.
// - log.h: leveled logging.

#include "sluice/core/bytes.h"
#include "sluice/core/clock.h"
#include "sluice/core/crash_point.h"
#include "sluice/core/fs.h"
#include "sluice/core/ids.h"
#include "sluice/core/log.h"
#include "sluice/core/result.h"
#include "sluice/core/status.h"
#include "sluice/core/text.h"
