#pragma once
// Private to load: what load.cc and load_nested.cc share.

#include <initializer_list>
#include <string>

#include "sluice/core/core.h"

namespace sluice::load {

// Keeps `st` when its code is one a load stage may blame on the file (`allowed`); anything
// else becomes INTERNAL naming the original code (load.cc). kUnavailable passes through.
Status Blame(const Status& st, std::initializer_list<ErrorCode> allowed, const std::string& what);

}  // namespace sluice::load
