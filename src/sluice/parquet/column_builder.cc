#include "sluice/parquet/column_builder.h"

#include <cstring>

namespace sluice::parquet {
namespace {

bool HasOffsets(const batch::Column& c) { return !c.offsets.empty(); }

// Extends `out`'s validity to cover its current rows before rows with nulls are added
// (an empty validity means "all valid").
void MaterialiseValidity(batch::Column* out) {
  if (out->validity.empty()) out->validity.assign(static_cast<size_t>(out->length), 1);
}

}  // namespace

void ClearColumn(batch::Column* column) {
  column->length = 0;
  column->validity.clear();
  column->fixed.clear();
  column->chars.clear();
  if (HasOffsets(*column)) column->offsets.assign(1, 0);
}

void SplitDense(batch::Column* column, int64_t keep, batch::Column* tail) {
  const int64_t moved = column->length - keep;
  if (HasOffsets(*column)) {
    const int64_t base = column->offsets[static_cast<size_t>(keep)];
    tail->chars.assign(column->chars.begin() + base, column->chars.end());
    tail->offsets.resize(static_cast<size_t>(moved) + 1);
    for (int64_t i = 0; i <= moved; ++i) {
      tail->offsets[static_cast<size_t>(i)] = column->offsets[static_cast<size_t>(keep + i)] - base;
    }
    column->chars.resize(static_cast<size_t>(base));
    column->offsets.resize(static_cast<size_t>(keep) + 1);
  } else {
    const size_t width = batch::FixedWidth(column->type.id);
    tail->fixed.assign(column->fixed.begin() + static_cast<ptrdiff_t>(keep * width),
                       column->fixed.end());
    column->fixed.resize(static_cast<size_t>(keep) * width);
  }
  tail->length = moved;
  column->length = keep;
}

void AppendDense(const batch::Column& dense, batch::Column* out) {
  if (dense.length == 0) return;
  if (!out->validity.empty()) out->validity.insert(out->validity.end(), dense.length, 1);
  if (HasOffsets(*out)) {
    const int64_t base = out->offsets.back();
    out->chars.insert(out->chars.end(), dense.chars.begin(), dense.chars.end());
    out->offsets.reserve(out->offsets.size() + static_cast<size_t>(dense.length));
    for (int64_t i = 1; i <= dense.length; ++i) out->offsets.push_back(base + dense.offsets[i]);
  } else {
    out->fixed.insert(out->fixed.end(), dense.fixed.begin(), dense.fixed.end());
  }
  out->length += dense.length;
}

void AppendWithNulls(const batch::Column& dense, const uint8_t* valid, int64_t n,
                     batch::Column* out) {
  MaterialiseValidity(out);
  out->validity.insert(out->validity.end(), valid, valid + n);
  if (HasOffsets(*out)) {
    out->chars.insert(out->chars.end(), dense.chars.begin(), dense.chars.end());
    const int64_t base = out->offsets.back();
    int64_t j = 0;
    for (int64_t i = 0; i < n; ++i) {
      j += valid[i] ? 1 : 0;
      out->offsets.push_back(base + dense.offsets[j]);
    }
  } else {
    const size_t width = batch::FixedWidth(out->type.id);
    if (width != 0) {
      const size_t start = out->fixed.size();
      out->fixed.resize(start + static_cast<size_t>(n) * width);
      uint8_t* dst = out->fixed.data() + start;
      const uint8_t* src = dense.fixed.data();
      for (int64_t i = 0; i < n; ++i, dst += width) {
        if (valid[i]) {
          std::memcpy(dst, src, width);
          src += width;
        } else {
          std::memset(dst, 0, width);
        }
      }
    }
  }
  out->length += n;
}

void AppendNulls(int64_t n, batch::Column* out) {
  MaterialiseValidity(out);
  out->validity.insert(out->validity.end(), static_cast<size_t>(n), 0);
  if (HasOffsets(*out)) {
    out->offsets.insert(out->offsets.end(), static_cast<size_t>(n), out->offsets.back());
  } else {
    out->fixed.resize(out->fixed.size() + static_cast<size_t>(n) * batch::FixedWidth(out->type.id));
  }
  out->length += n;
}

}  // namespace sluice::parquet
