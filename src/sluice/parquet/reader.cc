// OpenParquet and DescribeSchema: the footer, the schema mapping and the per-row-group loop.

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>

#include "sluice/parquet/assembly.h"
#include "sluice/parquet/column_chunk_reader.h"
#include "sluice/parquet/footer.h"
#include "sluice/parquet/limits.h"
#include "sluice/parquet/parquet.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {
namespace {

// True for parquet-mr before 1.2.9 (or without a version), whose column chunk sizes may
// leave out the dictionary page header (PARQUET-816).
bool WrittenBeforeParquet816Fix(const std::string& created_by) {
  const std::string app = "parquet-mr";
  if (created_by.rfind(app, 0) != 0) return false;
  const size_t at = created_by.find("version ");
  if (at == std::string::npos) return true;
  int parts[3] = {0, 0, 0};
  std::sscanf(created_by.c_str() + at + 8, "%d.%d.%d", &parts[0], &parts[1], &parts[2]);
  return std::make_tuple(parts[0], parts[1], parts[2]) < std::make_tuple(1, 2, 9);
}

class ParquetReader final : public batch::BatchReader {
 public:
  ParquetReader(std::unique_ptr<RandomAccessFile> file, Footer footer, FileSchema file_schema,
                std::vector<int> selected, const ReaderOptions& options)
      : file_(std::move(file)),
        footer_(std::move(footer)),
        file_schema_(std::move(file_schema)),
        selected_(std::move(selected)),
        memory_(options.limits),
        decoded_("decoded values", kDecodedFloorBytes, kMaxDecodedRatio),
        legacy_dictionary_size_(WrittenBeforeParquet816Fix(footer_.metadata.created_by)) {
    auto schema = std::make_shared<batch::Schema>();
    const size_t leaves = file_schema_.leaves.size();
    leaf_batches_.resize(leaves);
    pending_.resize(leaves);
    bytes_per_row_.assign(leaves, 1);
    readers_.resize(leaves);
    for (int index : selected_) {
      const TopColumn& column = file_schema_.columns[static_cast<size_t>(index)];
      schema->fields.push_back(file_schema_.schema.fields[static_cast<size_t>(index)]);
      for (int leaf = column.first_leaf; leaf < column.first_leaf + column.num_leaves; ++leaf) {
        const size_t l = static_cast<size_t>(leaf);
        readers_[l] = std::make_unique<ColumnChunkReader>(file_schema_.leaves[l],
                                                          options.verify_page_crc, &memory_);
        pending_[l].Reset(file_schema_.leaves[l].type);
        selected_leaves_.push_back(l);
      }
    }
    schema_ = std::move(schema);
    // The decoded bytes are held against the whole file's size.
    (void)decoded_.Add(file_->size(), 0);
  }

  const batch::Schema& schema() const override { return *schema_; }
  int64_t num_rows() const override { return footer_.metadata.num_rows; }

  Result<bool> Next(batch::Batch* out) override {
    const auto& groups = footer_.metadata.row_groups;
    while (group_rows_left_ == 0) {
      if (next_group_ >= groups.size()) return false;
      const int index = static_cast<int>(next_group_++);
      const RowGroup& group = groups[static_cast<size_t>(index)];
      for (size_t leaf : selected_leaves_) {
        Status st = readers_[leaf]->Open(file_.get(), footer_.data_end, group.columns[leaf], index,
                                         group.num_rows, legacy_dictionary_size_);
        if (!st.ok()) return st.WithContext(file_->name());
      }
      group_rows_left_ = group.num_rows;
      group_index_ = index;
    }
    const int64_t want = std::min({batch::kBatchRows, group_rows_left_, rows_hint_});
    SLUICE_ASSIGN_OR_RETURN(int64_t rows, ReadLeaves(want));
    rows_hint_ = rows < want ? rows : std::min(batch::kBatchRows, rows_hint_ * 2);
    batch::Batch result;
    result.schema = schema_;
    result.num_rows = rows;
    result.columns.resize(selected_.size());
    for (size_t i = 0; i < selected_.size(); ++i) {
      const TopColumn& column = file_schema_.columns[static_cast<size_t>(selected_[i])];
      Status st =
          AssembleColumn(column.shape, leaf_batches_, file_schema_.leaves, &result.columns[i]);
      if (st.ok() && result.columns[i].length != rows) {
        st =
            Err(ErrorCode::kCorruptFile, std::to_string(result.columns[i].length) + " rows where " +
                                             std::to_string(rows) + " were expected");
      }
      if (!st.ok()) {
        return st.WithContext(file_->name() + ": row group " + std::to_string(group_index_) +
                              ", column '" + column.name + "'");
      }
    }
    Status st = decoded_.Add(0, batch::BatchBytes(result));
    if (!st.ok()) return st.WithContext(file_->name());
    group_rows_left_ -= rows;
    *out = std::move(result);
    return true;
  }

 private:
  // Reads the same next rows, at most `want`, of every selected leaf into leaf_batches_, within
  // the batch budget; returns how many. Each leaf gets a share of the budget by the bytes a
  // row of it took so far; a leaf that stops short sets the batch's rows, and the leaves read
  // before it keep their extra rows in pending_ for the next batch.
  Result<int64_t> ReadLeaves(int64_t want) {
    const uint64_t budget = memory_.limits.batch_bytes;
    uint64_t weights = 0;
    for (size_t l : selected_leaves_) weights += bytes_per_row_[l];
    int64_t rows = want;
    for (size_t l : selected_leaves_) {
      const LeafColumn& leaf = file_schema_.leaves[l];
      LeafBatch& b = leaf_batches_[l];
      std::swap(b, pending_[l]);
      pending_[l].Reset(leaf.type);
      if (b.rows < rows) {
        const uint64_t share =
            std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(budget) *
                                                        static_cast<double>(bytes_per_row_[l]) /
                                                        static_cast<double>(weights)));
        const uint64_t held = b.Bytes();
        Result<int64_t> got =
            readers_[l]->ReadRows(rows - b.rows, share > held ? share - held : 0, &b);
        if (got.ok() && b.rows == 0) got = readers_[l]->ReadRows(1, budget, &b);
        if (got.ok() && b.rows == 0) {
          got = batch::LimitExceeded(
              "row " + std::to_string(RowInGroup()) + " of column '" + leaf.name + "'", budget + 1,
              "batch", budget);
        }
        if (!got.ok()) {
          return got.status().WithContext(file_->name());
        }
      }
      rows = std::min(rows, b.rows);
    }
    for (size_t l : selected_leaves_) {
      LeafBatch& b = leaf_batches_[l];
      if (b.rows > rows)
        b.SplitRows(rows, file_schema_.leaves[l].max_definition_level, &pending_[l]);
      bytes_per_row_[l] = std::max<uint64_t>(1, b.Bytes() / static_cast<uint64_t>(rows));
    }
    return rows;
  }

  int64_t RowInGroup() const {
    return footer_.metadata.row_groups[static_cast<size_t>(group_index_)].num_rows -
           group_rows_left_;
  }

  std::unique_ptr<RandomAccessFile> file_;
  Footer footer_;
  FileSchema file_schema_;
  std::vector<int> selected_;
  std::vector<size_t> selected_leaves_;
  std::shared_ptr<const batch::Schema> schema_;
  // Declared before readers_, which release their share of it when destroyed.
  ReaderMemory memory_;
  batch::InflationGuard decoded_;
  // Indexed by leaf (column chunk) number; null for leaves not selected.
  std::vector<std::unique_ptr<ColumnChunkReader>> readers_;
  std::vector<LeafBatch> leaf_batches_;
  std::vector<LeafBatch> pending_;       // rows read past the last batch, per leaf
  std::vector<uint64_t> bytes_per_row_;  // per leaf, in the last batch
  bool legacy_dictionary_size_ = false;
  size_t next_group_ = 0;
  int group_index_ = 0;
  int64_t group_rows_left_ = 0;
  int64_t rows_hint_ = batch::kBatchRows;
};

// Row-group level checks, done once at open so that Next only meets page-level damage.
Status CheckRowGroups(const std::string& name, const FileMetaData& md, const FileSchema& fs) {
  if (md.num_rows < 0) {
    return Err(ErrorCode::kCorruptFile,
               name + ": negative row count " + std::to_string(md.num_rows));
  }
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const RowGroup& group = md.row_groups[g];
    const std::string where = name + ": row group " + std::to_string(g);
    if (group.columns.size() != static_cast<size_t>(fs.num_leaves)) {
      return Err(ErrorCode::kCorruptFile, where + " has " + std::to_string(group.columns.size()) +
                                              " column chunks, the schema has " +
                                              std::to_string(fs.num_leaves) + " leaf columns");
    }
    if (group.num_rows < 0) {
      return Err(ErrorCode::kCorruptFile, where + " has a negative row count");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<batch::BatchReader>> OpenParquet(std::unique_ptr<RandomAccessFile> file,
                                                        const ReaderOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(Footer footer, ReadFooter(*file));
  const std::string& name = file->name();
  auto file_schema = BuildFileSchema(footer.metadata.schema);
  if (!file_schema.ok()) return file_schema.status().WithContext(name);
  FileSchema fs = std::move(file_schema).value();
  SLUICE_RETURN_IF_ERROR(CheckRowGroups(name, footer.metadata, fs));

  std::vector<int> selected;
  if (options.columns.empty()) {
    for (size_t i = 0; i < fs.columns.size(); ++i) selected.push_back(static_cast<int>(i));
  } else {
    for (const std::string& column : options.columns) {
      const int index = fs.schema.FieldIndex(column);
      if (index < 0) {
        return Err(ErrorCode::kNotFound, name + ": no column '" + column + "' in the file");
      }
      selected.push_back(index);
    }
  }
  return std::unique_ptr<batch::BatchReader>(new ParquetReader(
      std::move(file), std::move(footer), std::move(fs), std::move(selected), options));
}

namespace {

// The element at `*next` and its subtree, as JSON; leaves also give their level maxima.
nlohmann::ordered_json DescribeElement(const FileSchema& fs, const std::vector<SchemaElement>& els,
                                       size_t* next, int* leaf, int depth) {
  const SchemaElement& e = els[(*next)++];
  nlohmann::ordered_json c;
  c["name"] = e.name;
  c["physical"] = e.type && e.num_children == 0 ? PhysicalTypeName(*e.type) : "GROUP";
  if (e.type == PhysicalType::kFixedLenByteArray) c["type_length"] = e.type_length;
  c["repetition"] = RepetitionName(e.repetition.value_or(Repetition::kRequired));
  const std::string logical = LogicalTypeText(e.logical);
  if (!logical.empty()) c["logical"] = logical;
  if (e.converted_type) c["converted"] = ConvertedTypeName(*e.converted_type);
  if (e.num_children == 0) {
    const LeafColumn& l = fs.leaves[static_cast<size_t>((*leaf)++)];
    if (depth > 1) c["type"] = batch::TypeName(l.type);
    c["max_definition_level"] = l.max_definition_level;
    c["max_repetition_level"] = l.max_repetition_level;
    return c;
  }
  nlohmann::ordered_json children = nlohmann::ordered_json::array();
  for (int32_t i = 0; i < e.num_children; ++i) {
    children.push_back(DescribeElement(fs, els, next, leaf, depth + 1));
  }
  c["children"] = std::move(children);
  return c;
}

}  // namespace

Result<std::string> DescribeSchema(std::unique_ptr<RandomAccessFile> file) {
  SLUICE_ASSIGN_OR_RETURN(Footer footer, ReadFooter(*file));
  const FileMetaData& md = footer.metadata;
  auto file_schema = BuildFileSchema(md.schema);
  if (!file_schema.ok()) return file_schema.status().WithContext(file->name());
  const FileSchema& fs = *file_schema;

  nlohmann::ordered_json doc;
  doc["num_rows"] = md.num_rows;
  doc["num_row_groups"] = md.row_groups.size();
  doc["created_by"] = md.created_by;
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  size_t next = 1;
  int leaf = 0;
  for (const TopColumn& column : fs.columns) {
    nlohmann::ordered_json element = DescribeElement(fs, md.schema, &next, &leaf, 1);
    nlohmann::ordered_json c;
    c["name"] = column.name;
    c["type"] = batch::TypeName(column.type);
    for (auto it = element.begin(); it != element.end(); ++it) {
      if (it.key() != "name") c[it.key()] = it.value();
    }
    columns.push_back(std::move(c));
  }
  doc["columns"] = std::move(columns);
  // dump() throws only on invalid UTF-8; replace bad bytes rather than throw across modules.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace sluice::parquet
