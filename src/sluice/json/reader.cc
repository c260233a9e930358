#include <algorithm>
#include <string>

#include "sluice/batch/limits.h"
#include "sluice/json/decode_internal.h"
#include "sluice/json/infer_internal.h"
#include "sluice/json/json.h"
#include "sluice/json/limits_internal.h"
#include "sluice/json/source_internal.h"
#include "sluice/json/splitter_internal.h"

namespace sluice::json {
namespace {

// One pass over the records: the byte source, the splitter and the parser.
class Pass {
 public:
  static Result<std::unique_ptr<Pass>> Open(const RandomAccessFile& file, size_t window,
                                            const batch::ReadLimits& limits) {
    std::unique_ptr<Pass> p(new Pass());
    SLUICE_ASSIGN_OR_RETURN(p->source_, ByteSource::Open(file));
    p->splitter_ = std::make_unique<Splitter>(p->source_.get(), window, simdjson::SIMDJSON_PADDING,
                                              limits.batch_bytes);
    SLUICE_ASSIGN_OR_RETURN(p->framing_, p->splitter_->Start());
    return p;
  }

  // The next record as a parsed document positioned at its object; false at the end.
  Result<bool> Next(od::object* out) {
    SLUICE_ASSIGN_OR_RETURN(bool more, splitter_->Next(&record_));
    if (!more) return false;
    const simdjson::padded_string_view view(record_.data, record_.size, record_.capacity);
    if (auto e = parser_.iterate(view).get(doc_)) return Malformed(e, nullptr);
    if (auto e = doc_.get_object().get(*out)) return Malformed(e, nullptr);
    return true;
  }
  // Bytes of the record Next returned last.
  size_t record_bytes() const { return record_.size; }

  // "line 12" (JSON Lines) or "element 7 of the top-level array (line 12)", and the offset.
  std::string Where() const {
    const std::string line = "line " + std::to_string(record_.line);
    if (framing_ == Framing::kArray) {
      return "element " + std::to_string(record_.index) + " of the top-level array (" + line +
             ", byte offset " + std::to_string(record_.offset) + ")";
    }
    return line + " (record " + std::to_string(record_.index) + ", byte offset " +
           std::to_string(record_.offset) + ")";
  }

 private:
  Pass() = default;
  std::unique_ptr<ByteSource> source_;
  std::unique_ptr<Splitter> splitter_;
  Framing framing_ = Framing::kObjects;
  od::parser parser_;
  od::document doc_;
  RecordView record_;
};

// Empties a column of a previous batch, keeping its buffers' capacity.
void Clear(batch::Column* c) {
  c->length = 0;
  c->validity.clear();
  c->fixed.clear();
  c->chars.clear();
  if (!c->offsets.empty()) c->offsets.resize(1);
  for (batch::Column& child : c->children) Clear(&child);
}

class JsonReader final : public batch::BatchReader {
 public:
  JsonReader(std::unique_ptr<RandomAccessFile> file, ReaderOptions options)
      : file_(std::move(file)), options_(std::move(options)) {}

  Status Open() {
    SLUICE_RETURN_IF_ERROR(WithName(Infer()));
    decoder_ = std::make_unique<Decoder>(*schema_, options_.limits.batch_bytes);
    // A record as short as `{}` still takes a slot in every column.
    row_slots_ = std::max<uint64_t>(1, batch::RowSlotBytes(*schema_));
    max_rows_ = std::clamp<int64_t>(static_cast<int64_t>(options_.limits.batch_bytes / row_slots_),
                                    1, options_.batch_rows);
    auto pass = Pass::Open(*file_, options_.window_bytes, options_.limits);
    if (!pass.ok()) return WithName(pass.status());
    pass_ = std::move(pass).value();
    return Status::Ok();
  }

  const batch::Schema& schema() const override { return *schema_; }
  int64_t num_rows() const override { return -1; }

  Result<bool> Next(batch::Batch* out) override {
    if (done_) return false;
    // The caller's previous batch (handed back by batch::Prefetch) lends its buffers.
    std::vector<batch::Column> columns;
    if (out->schema == schema_ && out->columns.size() == schema_->fields.size()) {
      columns = std::move(out->columns);
      for (batch::Column& c : columns) Clear(&c);
    } else {
      columns.reserve(schema_->fields.size());
      for (const auto& f : schema_->fields) {
        columns.push_back(batch::MakeColumn(f.type));
        const size_t width = batch::FixedWidth(f.type.id);
        if (width) columns.back().fixed.reserve(width * static_cast<size_t>(max_rows_));
      }
    }
    // Cut at batch_rows, at budget / kRawToBatchBytes of JSON, or when the slots of the rows
    // and of their list and map entries reach the budget (the last record may pass it).
    int64_t rows = 0;
    uint64_t raw = 0, slots = 0;
    const uint64_t budget = options_.limits.batch_bytes;
    while (rows < max_rows_ && (rows == 0 || (raw < budget / kRawToBatchBytes && slots < budget))) {
      od::object record;
      auto more = pass_->Next(&record);
      if (!more.ok()) return Located(more.status());
      if (!*more) {
        done_ = true;
        break;
      }
      SLUICE_RETURN_IF_ERROR(Located(decoder_->Append(record, &columns)));
      raw += pass_->record_bytes();
      slots += row_slots_ + decoder_->entry_bytes();
      ++rows;
    }
    if (rows == 0) return false;
    out->schema = schema_;
    out->columns = std::move(columns);
    out->num_rows = rows;
    return true;
  }

 private:
  Status Infer() {
    const batch::Schema* target = options_.schema ? &*options_.schema : nullptr;
    Inferrer inferrer(target);
    SLUICE_ASSIGN_OR_RETURN(auto pass, Pass::Open(*file_, options_.window_bytes, options_.limits));
    for (int64_t n = 0; options_.infer_records == 0 || n < options_.infer_records; ++n) {
      od::object record;
      auto more = pass->Next(&record);
      if (!more.ok()) return Located(more.status(), pass.get());
      if (!*more) break;
      SLUICE_RETURN_IF_ERROR(Located(inferrer.Observe(record), pass.get()));
    }
    schema_ = std::make_shared<const batch::Schema>(inferrer.Finish());
    return Status::Ok();
  }

  // The file's name and where in it (splitter errors already name line and offset).
  Status Located(const Status& st, Pass* pass = nullptr) const {
    if (st.ok()) return st;
    if (!pass) pass = pass_.get();
    const std::string& msg = st.message();
    const bool placed =
        msg.rfind("line ", 0) == 0 || msg.rfind("gzip", 0) == 0 || msg.rfind("not JSON", 0) == 0;
    if (placed || !pass) return WithName(st);
    return Status(st.code(), file_->name() + ": " + pass->Where() + ": " + msg);
  }
  Status WithName(const Status& st) const {
    if (st.ok() || st.message().rfind(file_->name() + ": ", 0) == 0) return st;
    return Status(st.code(), file_->name() + ": " + st.message());
  }

  std::unique_ptr<RandomAccessFile> file_;
  ReaderOptions options_;
  std::shared_ptr<const batch::Schema> schema_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<Pass> pass_;
  uint64_t row_slots_ = 1;  // batch::RowSlotBytes of the schema
  int64_t max_rows_ = 1;    // batch_rows, or fewer when the rows' slots alone pass batch_bytes
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<batch::BatchReader>> OpenJson(std::unique_ptr<RandomAccessFile> file,
                                                     const ReaderOptions& options) {
  ReaderOptions opts = options;
  if (opts.batch_rows <= 0 || opts.batch_rows > batch::kBatchRows)
    opts.batch_rows = batch::kBatchRows;
  if (opts.window_bytes < 64) opts.window_bytes = 64;
  auto reader = std::make_unique<JsonReader>(std::move(file), std::move(opts));
  SLUICE_RETURN_IF_ERROR(reader->Open());
  return std::unique_ptr<batch::BatchReader>(std::move(reader));
}

}  // namespace sluice::json
