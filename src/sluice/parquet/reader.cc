// OpenParquet and DescribeSchema: the footer, the schema mapping and the per-row-group loop.

#include <nlohmann/json.hpp>

#include "sluice/parquet/column_chunk_reader.h"
#include "sluice/parquet/footer.h"
#include "sluice/parquet/limits.h"
#include "sluice/parquet/parquet.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {
namespace {

class ParquetReader final : public batch::BatchReader {
 public:
  ParquetReader(std::unique_ptr<RandomAccessFile> file, Footer footer, FileSchema file_schema,
                std::vector<int> selected)
      : file_(std::move(file)),
        footer_(std::move(footer)),
        file_schema_(std::move(file_schema)),
        selected_(std::move(selected)) {
    auto schema = std::make_shared<batch::Schema>();
    for (int index : selected_) {
      schema->fields.push_back(file_schema_.schema.fields[static_cast<size_t>(index)]);
      readers_.emplace_back(file_schema_.columns[static_cast<size_t>(index)]);
    }
    schema_ = std::move(schema);
  }

  const batch::Schema& schema() const override { return *schema_; }
  int64_t num_rows() const override { return footer_.metadata.num_rows; }

  Result<bool> Next(batch::Batch* out) override {
    const auto& groups = footer_.metadata.row_groups;
    while (next_group_ < groups.size()) {
      const int index = static_cast<int>(next_group_++);
      const RowGroup& group = groups[static_cast<size_t>(index)];
      batch::Batch result;
      result.schema = schema_;
      result.num_rows = group.num_rows;
      result.columns.resize(selected_.size());
      for (size_t i = 0; i < selected_.size(); ++i) {
        const TopColumn& column = file_schema_.columns[static_cast<size_t>(selected_[i])];
        const ColumnChunk& chunk = group.columns[static_cast<size_t>(column.first_leaf)];
        SLUICE_RETURN_IF_ERROR(readers_[i].Read(*file_, footer_.data_end, chunk, index,
                                                group.num_rows, &result.columns[i]));
      }
      *out = std::move(result);
      return true;
    }
    return false;
  }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  Footer footer_;
  FileSchema file_schema_;
  std::vector<int> selected_;
  std::shared_ptr<const batch::Schema> schema_;
  std::vector<ColumnChunkReader> readers_;
  size_t next_group_ = 0;
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
    if (group.num_rows > kMaxRowGroupRows) {
      return Err(ErrorCode::kUnsupportedFormat,
                 where + " has " + std::to_string(group.num_rows) +
                     " rows, more than this reader's kMaxRowGroupRows (" +
                     std::to_string(kMaxRowGroupRows) + ")");
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
  for (int index : selected) {
    const TopColumn& column = fs.columns[static_cast<size_t>(index)];
    if (!column.unsupported.empty()) {
      return Err(ErrorCode::kUnsupportedFormat,
                 name + ": " + column.unsupported + " (this reader reads flat columns only)");
    }
  }
  return std::unique_ptr<batch::BatchReader>(
      new ParquetReader(std::move(file), std::move(footer), std::move(fs), std::move(selected)));
}

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
  for (const TopColumn& column : fs.columns) {
    const SchemaElement& e = md.schema[static_cast<size_t>(column.schema_index)];
    nlohmann::ordered_json c;
    c["name"] = column.name;
    c["type"] = batch::TypeName(column.type);
    c["physical"] = e.type ? PhysicalTypeName(*e.type) : "GROUP";
    if (e.type == PhysicalType::kFixedLenByteArray) c["type_length"] = e.type_length;
    c["repetition"] = RepetitionName(e.repetition.value_or(Repetition::kRequired));
    const std::string logical = LogicalTypeText(e.logical);
    if (!logical.empty()) c["logical"] = logical;
    if (e.converted_type) c["converted"] = ConvertedTypeName(*e.converted_type);
    if (!column.unsupported.empty()) c["unsupported"] = column.unsupported;
    columns.push_back(std::move(c));
  }
  doc["columns"] = std::move(columns);
  // dump() throws only on invalid UTF-8; replace bad bytes rather than throw across modules.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace sluice::parquet
