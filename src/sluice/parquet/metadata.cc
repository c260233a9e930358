#include "sluice/parquet/metadata.h"

#include "sluice/parquet/thrift_compact.h"

namespace sluice::parquet {
namespace {

// Reads a list<struct>, calling `read_element(CompactReader&, T*)` per element.
template <class T, class F>
Status ReadStructList(CompactReader& r, CType type, std::vector<T>* out, F&& read_element) {
  if (type != CType::kList) return CompactReader::Corrupt("expected a list");
  CType element;
  uint32_t size;
  SLUICE_RETURN_IF_ERROR(r.ReadListHeader(&element, &size));
  if (element != CType::kStruct) return CompactReader::Corrupt("expected a list of structs");
  out->resize(size);
  for (uint32_t i = 0; i < size; ++i) SLUICE_RETURN_IF_ERROR(read_element(r, &(*out)[i]));
  return Status::Ok();
}

Status ReadStringList(CompactReader& r, CType type, std::vector<std::string>* out) {
  if (type != CType::kList) return CompactReader::Corrupt("expected a list");
  CType element;
  uint32_t size;
  SLUICE_RETURN_IF_ERROR(r.ReadListHeader(&element, &size));
  if (element != CType::kBinary) return CompactReader::Corrupt("expected a list of strings");
  out->resize(size);
  for (uint32_t i = 0; i < size; ++i) {
    SLUICE_ASSIGN_OR_RETURN((*out)[i], r.ReadString());
  }
  return Status::Ok();
}

Status ExpectStruct(CType type) {
  if (type == CType::kStruct) return Status::Ok();
  return CompactReader::Corrupt("expected a struct");
}

// TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS (each an empty struct).
Status ReadTimeUnit(CompactReader& r, LogicalTimeUnit* unit) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    if (id == 1) *unit = LogicalTimeUnit::kMillis;
    if (id == 2) *unit = LogicalTimeUnit::kMicros;
    if (id == 3) *unit = LogicalTimeUnit::kNanos;
    return r.Skip(t);
  });
}

Status ReadLogicalType(CompactReader& r, LogicalType* lt) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
    switch (id) {
      case 5:  // DecimalType
        lt->kind = LogicalKind::kDecimal;
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          if (f == 1) return r.ReadField(ft, &lt->scale);
          if (f == 2) return r.ReadField(ft, &lt->precision);
          return r.Skip(ft);
        });
      case 7:  // TimeType
      case 8:  // TimestampType
        lt->kind = id == 7 ? LogicalKind::kTime : LogicalKind::kTimestamp;
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          if (f == 1) return r.ReadField(ft, &lt->utc);
          if (f == 2) {
            SLUICE_RETURN_IF_ERROR(ExpectStruct(ft));
            return ReadTimeUnit(r, &lt->unit);
          }
          return r.Skip(ft);
        });
      case 10:  // IntType
        lt->kind = LogicalKind::kInteger;
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          if (f == 1) {
            int8_t width = 0;
            SLUICE_RETURN_IF_ERROR(r.ReadField(ft, &width));
            // A thrift i8 is signed; the width is validated where it is used.
            lt->bit_width = width;  // NOLINT(bugprone-signed-char-misuse)
            return Status::Ok();
          }
          if (f == 2) return r.ReadField(ft, &lt->is_signed);
          return r.Skip(ft);
        });
      case 1:
      case 2:
      case 3:
      case 4:
      case 6:
      case 11:
      case 12:
      case 13:
      case 14:
      case 15:
        lt->kind = static_cast<LogicalKind>(id);
        return r.Skip(t);
      default:
        lt->kind = LogicalKind::kOther;
        lt->other_id = id;
        return r.Skip(t);
    }
  });
}

Status ReadSchemaElement(CompactReader& r, SchemaElement* e) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    int32_t v = 0;
    switch (id) {
      case 1:
        SLUICE_RETURN_IF_ERROR(r.ReadField(t, &v));
        if (v < 0 || v > 7)
          return CompactReader::Corrupt("unknown physical type " + std::to_string(v));
        e->type = static_cast<PhysicalType>(v);
        return Status::Ok();
      case 2:
        return r.ReadField(t, &e->type_length);
      case 3:
        SLUICE_RETURN_IF_ERROR(r.ReadField(t, &v));
        if (v < 0 || v > 2)
          return CompactReader::Corrupt("unknown repetition " + std::to_string(v));
        e->repetition = static_cast<Repetition>(v);
        return Status::Ok();
      case 4:
        return r.ReadField(t, &e->name);
      case 5:
        return r.ReadField(t, &e->num_children);
      case 6:
        SLUICE_RETURN_IF_ERROR(r.ReadField(t, &v));
        e->converted_type = static_cast<ConvertedType>(v);
        return Status::Ok();
      case 7:
        return r.ReadField(t, &e->scale);
      case 8:
        return r.ReadField(t, &e->precision);
      case 10:
        SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
        return ReadLogicalType(r, &e->logical);
      default:
        return r.Skip(t);
    }
  });
}

Status ReadColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    switch (id) {
      case 1:
        return r.ReadField(t, &m->type);
      case 3:
        return ReadStringList(r, t, &m->path_in_schema);
      case 4:
        return r.ReadField(t, &m->codec);
      case 5:
        return r.ReadField(t, &m->num_values);
      case 6:
        return r.ReadField(t, &m->total_uncompressed_size);
      case 7:
        return r.ReadField(t, &m->total_compressed_size);
      case 9:
        return r.ReadField(t, &m->data_page_offset);
      case 11: {
        int64_t v = 0;
        SLUICE_RETURN_IF_ERROR(r.ReadField(t, &v));
        m->dictionary_page_offset = v;
        return Status::Ok();
      }
      default:
        return r.Skip(t);
    }
  });
}

Status ReadColumnChunk(CompactReader& r, ColumnChunk* c) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    switch (id) {
      case 1:
        return r.ReadField(t, &c->file_path);
      case 3:
        SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
        c->has_meta_data = true;
        return ReadColumnMetaData(r, &c->meta_data);
      case 8:
      case 9:
        c->encrypted = true;
        return r.Skip(t);
      default:
        return r.Skip(t);
    }
  });
}

Status ReadRowGroup(CompactReader& r, RowGroup* g) {
  return r.ReadStruct([&](int16_t id, CType t) -> Status {
    switch (id) {
      case 1:
        return ReadStructList(r, t, &g->columns, ReadColumnChunk);
      case 3:
        return r.ReadField(t, &g->num_rows);
      default:
        return r.Skip(t);
    }
  });
}

}  // namespace

Result<FileMetaData> ParseFileMetaData(ByteView footer) {
  CompactReader r(footer);
  FileMetaData md;
  Status st = r.ReadStruct([&](int16_t id, CType t) -> Status {
    switch (id) {
      case 1:
        return r.ReadField(t, &md.version);
      case 2:
        return ReadStructList(r, t, &md.schema, ReadSchemaElement);
      case 3:
        return r.ReadField(t, &md.num_rows);
      case 4:
        return ReadStructList(r, t, &md.row_groups, ReadRowGroup);
      case 6:
        return r.ReadField(t, &md.created_by);
      case 8:
        md.encrypted = true;
        return r.Skip(t);
      default:
        return r.Skip(t);
    }
  });
  if (!st.ok()) return st.WithContext("footer metadata");
  return md;
}

Result<PageHeader> ParsePageHeader(ByteView bytes, size_t* header_size) {
  CompactReader r(bytes);
  PageHeader h;
  Status st = r.ReadStruct([&](int16_t id, CType t) -> Status {
    switch (id) {
      case 1:
        return r.ReadField(t, &h.type);
      case 2:
        return r.ReadField(t, &h.uncompressed_page_size);
      case 3:
        return r.ReadField(t, &h.compressed_page_size);
      case 4: {
        int32_t crc = 0;
        SLUICE_RETURN_IF_ERROR(r.ReadField(t, &crc));
        h.crc = static_cast<uint32_t>(crc);
        return Status::Ok();
      }
      case 5: {
        SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
        DataPageHeader& d = h.data_page.emplace();
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          if (f == 1) return r.ReadField(ft, &d.num_values);
          if (f == 2) return r.ReadField(ft, &d.encoding);
          if (f == 3) return r.ReadField(ft, &d.definition_level_encoding);
          if (f == 4) return r.ReadField(ft, &d.repetition_level_encoding);
          return r.Skip(ft);
        });
      }
      case 7: {
        SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
        DictionaryPageHeader& d = h.dictionary_page.emplace();
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          if (f == 1) return r.ReadField(ft, &d.num_values);
          if (f == 2) return r.ReadField(ft, &d.encoding);
          return r.Skip(ft);
        });
      }
      case 8: {
        SLUICE_RETURN_IF_ERROR(ExpectStruct(t));
        DataPageHeaderV2& d = h.data_page_v2.emplace();
        return r.ReadStruct([&](int16_t f, CType ft) -> Status {
          switch (f) {
            case 1:
              return r.ReadField(ft, &d.num_values);
            case 2:
              return r.ReadField(ft, &d.num_nulls);
            case 3:
              return r.ReadField(ft, &d.num_rows);
            case 4:
              return r.ReadField(ft, &d.encoding);
            case 5:
              return r.ReadField(ft, &d.definition_levels_byte_length);
            case 6:
              return r.ReadField(ft, &d.repetition_levels_byte_length);
            case 7:
              return r.ReadField(ft, &d.is_compressed);
            default:
              return r.Skip(ft);
          }
        });
      }
      default:
        return r.Skip(t);
    }
  });
  if (!st.ok()) return st;
  *header_size = r.position();
  return h;
}

std::string PhysicalTypeName(PhysicalType type) {
  static const char* const kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                       "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return kNames[static_cast<int>(type)];
}

std::string RepetitionName(Repetition repetition) {
  static const char* const kNames[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
  return kNames[static_cast<int>(repetition)];
}

std::string ConvertedTypeName(ConvertedType type) {
  static const char* const kNames[] = {"UTF8",
                                       "MAP",
                                       "MAP_KEY_VALUE",
                                       "LIST",
                                       "ENUM",
                                       "DECIMAL",
                                       "DATE",
                                       "TIME_MILLIS",
                                       "TIME_MICROS",
                                       "TIMESTAMP_MILLIS",
                                       "TIMESTAMP_MICROS",
                                       "UINT_8",
                                       "UINT_16",
                                       "UINT_32",
                                       "UINT_64",
                                       "INT_8",
                                       "INT_16",
                                       "INT_32",
                                       "INT_64",
                                       "JSON",
                                       "BSON",
                                       "INTERVAL"};
  int i = static_cast<int>(type);
  if (i < 0 || i > 21) return "CONVERTED_" + std::to_string(i);
  return kNames[i];
}

std::string CodecName(int32_t codec) {
  static const char* const kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                       "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  if (codec < 0 || codec > 7) return "codec " + std::to_string(codec);
  return kNames[codec];
}

std::string EncodingName(int32_t encoding) {
  static const char* const kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  if (encoding < 0 || encoding > 9) return "encoding " + std::to_string(encoding);
  return kNames[encoding];
}

}  // namespace sluice::parquet
